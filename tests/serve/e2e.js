// e2e.js: the studio page in a real headless Chromium (Debian's), driven by
// playwright-core: drop a photo and choose a painting, start a small job, see the
// preview change while it runs, wait for the result, download it and check
// it is the server's PNG of the right size; save a screenshot; then the same
// painting "instant" (fast=1, one pass of the arbitrary-style pair); then
// regions: a stroke of the brush on the photo, the rest kept, an instant job
// (its mask, its regions, its result painted only where the brush went;
// E2E_DATA: the server's data directory, for the stored photo).
// usage: node e2e.js URL CONTENT STYLE SCREENSHOT [SIZE ITERATIONS]
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const path = require("path");

const [url, content, style, shot, size = "256", iterations = "300"] = process.argv.slice(2);
let passed = 0, failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else { failed++; console.log("FAIL " + what); }
}

function pngSize(buf) {
  const sig = "89504e470d0a1a0a";
  if (buf.length < 24 || buf.subarray(0, 8).toString("hex") !== sig) return "";
  return buf.readUInt32BE(16) + "x" + buf.readUInt32BE(20);
}

// page.waitForFunction, its timeout naming what was awaited
async function waitFor(page, what, fn, arg, opts) {
  try { return await page.waitForFunction(fn, arg, opts); }
  catch (e) { throw new Error(what + ": " + e.message.split("\n")[0]); }
}

async function setRange(page, id, value) {
  await page.$eval("#" + id, (el, v) => {
    el.value = v;
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, value);
}

// In the page: PNGs (base64) -> their pixels compared over boxes (fractions
// of the width and height): the mean absolute RGB difference of each box, and
// the largest.
function comparePixels({ a, b, boxes }) {
  const decode = (b64) => createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))],
                                                     { type: "image/png" }));
  return Promise.all([decode(a), decode(b)]).then(([ia, ib]) => {
    const px = (img) => {
      const c = document.createElement("canvas");
      c.width = img.width; c.height = img.height;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, c.width, c.height).data;
    };
    if (ia.width !== ib.width || ia.height !== ib.height) return { error: ia.width + "x" + ia.height + " and " + ib.width + "x" + ib.height };
    const da = px(ia), db = px(ib), w = ia.width, h = ia.height;
    return boxes.map(([x0, y0, x1, y1]) => {
      let sum = 0, n = 0, most = 0;
      for (let y = Math.round(y0 * h); y < Math.round(y1 * h); y++)
        for (let x = Math.round(x0 * w); x < Math.round(x1 * w); x++)
          for (let c = 0; c < 3; c++) {
            const d = Math.abs(da[(y * w + x) * 4 + c] - db[(y * w + x) * 4 + c]);
            sum += d, n++, most = Math.max(most, d);
          }
      return { mean: sum / n, most };
    });
  });
}

// In the page: the colour of a PNG (base64) at fractions (x, y) of its size.
function pixelAt({ png, points }) {
  return createImageBitmap(new Blob([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], { type: "image/png" }))
    .then((img) => {
      const c = document.createElement("canvas");
      c.width = img.width; c.height = img.height;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      return points.map(([x, y]) => Array.from(g.getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data.slice(0, 3)));
    });
}

// The brush: paint a stroke in blue on the photo, keep the photo for the
// rest, paint instantly; the request's mask and regions, the job's params
// and caption, and the result: painted under the stroke, the photo elsewhere.
async function regionsCase(page, url, shot) {
  check(await page.isVisible("#row-regions"), "the regions choice is offered for paintings");
  await page.check("#regions");
  await waitFor(page, "the mask over the photo", () => {
    const m = document.getElementById("mask");
    return m.offsetWidth > 0 && m.width > 0;
  });
  const dims = await page.$eval("#mask", (c) => [c.width, c.height]);
  check(dims[0] === 512 && dims[1] === 384, "the mask canvas has the photo's shape, long side 512: " + dims.join("x"));
  await page.check('input[name="brush"][value="#0000ff"]');
  await setRange(page, "brush-size", "40");
  // the sky of the upper left in strokes to and fro, 5 % to 45 % of the
  // width, 6 % to 30 % of the height
  const box = await page.$eval("#mask", (c) => { const r = c.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; });
  const at = (fx, fy) => [box[0] + fx * box[2], box[1] + fy * box[3]];
  await page.mouse.move(...at(0.05, 0.06));
  await page.mouse.down();
  for (const [k, y] of [0.06, 0.14, 0.22, 0.3].entries()) {
    for (let s = 0; s <= 8; s++) await page.mouse.move(...at(k % 2 ? 0.45 - 0.05 * s : 0.05 + 0.05 * s, y));
    if (k < 3) await page.mouse.move(...at(k % 2 ? 0.05 : 0.45, y + 0.08), { steps: 3 });
  }
  await page.mouse.up();
  const drawn = await page.$eval("#mask", (c) => {
    const g = c.getContext("2d");
    return [Array.from(g.getImageData(c.width * 0.3, c.height * 0.3, 1, 1).data), Array.from(g.getImageData(c.width * 0.3, c.height * 0.8, 1, 1).data)];
  });
  check(drawn[0].join() === "0,0,255,255" && drawn[1].join() === "0,0,0,255",
        "the stroke is blue on the canvas, the rest black: " + JSON.stringify(drawn));
  const choices = await page.$$eval("#region-blue option", (os) => os.map((o) => o.textContent));
  check(choices.join() === "keep the photo,starry_night.jpg", "each colour offers the photo or a painting by name: " + choices);
  // every region keeping the photo is refused in the page
  await page.selectOption("#region-rest", "none");
  await page.selectOption("#region-blue", "none");
  await page.click("#start");
  await waitFor(page, "the page's error for no painting", () => /Every region keeps the photo/.test(document.getElementById("error").textContent));
  await page.selectOption("#region-blue", "1");
  // the form the page sends (Chromium does not give playwright a body of
  // blobs): kept by a wrapper of fetch
  await page.evaluate(() => {
    const send = window.fetch;
    window.sentForms = [];
    window.fetch = (u, o) => {
      if (o && o.body instanceof FormData) window.sentForms.push(o.body);
      return send(u, o);
    };
  });
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/api/jobs")),
    page.click("#start"),
  ]);
  const id = String((await response.json()).id);
  const sent = await page.evaluate(async () => {
    const form = window.sentForms[window.sentForms.length - 1], mask = form.get("mask");
    const bytes = mask ? new Uint8Array(await mask.arrayBuffer()) : new Uint8Array(0);
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return { regions: form.get("regions"), mask: mask ? btoa(bin) : null, styles: form.getAll("style").length };
  });
  const mask = sent.mask && Buffer.from(sent.mask, "base64");
  check(sent.regions === "#000000=none,#0000ff=1", "regions sent for the colours present: " + sent.regions);
  check(mask && pngSize(mask) === "512x384", "the mask is sent as a 512x384 PNG: " + (mask && pngSize(mask)));
  if (mask) {
    const c = await page.evaluate(pixelAt, { png: sent.mask, points: [[0.3, 0.3], [0.3, 0.8], [0.9, 0.1]] });
    check(c[0].join() === "0,0,255" && c[1].join() === "0,0,0" && c[2].join() === "0,0,0",
          "the mask sent holds the blue stroke on black: " + JSON.stringify(c));
  }
  check(response.status() === 201, "the regions job is accepted: HTTP " + response.status());
  await waitFor(page, "the regions job", (id) => new RegExp("Job " + id + ": (done|failed)").test(document.getElementById("state").textContent),
                id, { timeout: 120000 });
  const state = await page.textContent("#state");
  check(/done/.test(state), "the regions job finished: " + state);
  const j = await (await page.request.get(url + "api/jobs/" + id)).json();
  check(j.params.regions === "#000000=none,#0000ff=1" && j.params.fast === 1,
        "the job's params hold the regions: " + JSON.stringify(j.params));
  await page.waitForSelector(`#gallery img[alt="result ${id}"]`);
  const caption = await page.textContent(`#gallery figure:has(img[alt="result ${id}"]) figcaption span`);
  check(/regions/.test(caption), "the gallery says regions: " + caption);
  const result = Buffer.from(await (await page.request.get(url + "api/jobs/" + id + "/result")).body());
  if (process.env.E2E_DATA) {
    const photo = fs.readFileSync(path.join(process.env.E2E_DATA, "jobs", id, "content.png"));
    // under the strokes; the lower half and the right, far from them
    const d = await page.evaluate(comparePixels, { a: result.toString("base64"), b: photo.toString("base64"),
      boxes: [[0.1, 0.1, 0.4, 0.28], [0, 0.55, 1, 1], [0.7, 0, 1, 0.5]] });
    check(!d.error && d[0].mean > 10, "the result is painted under the stroke: " + JSON.stringify(d));
    check(!d.error && d[1].most <= 2 && d[2].most <= 2, "the result is the photo away from the stroke: " + JSON.stringify(d));
  }
  await waitFor(page, "the regions result shown", (id) => document.getElementById("preview").src.includes("/api/jobs/" + id + "/result"), id);
  await waitFor(page, "the regions result loaded", () => document.getElementById("preview").naturalWidth > 0);
  // the page from its top to the Paint button: the brush's mask over the photo, and the result
  // (960 px wide: the page of a 1200 px window zoomed to 80 %, for a small file)
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 960, height: viewport.height });
  await page.evaluate(() => { document.body.style.zoom = "0.8"; });
  const bottom = await page.$eval("#start", (b) => b.getBoundingClientRect().bottom + window.scrollY + 12);
  await page.screenshot({ path: shot.replace(/\.png$/, "") + "_regions.png", fullPage: true,
                          clip: { x: 0, y: 0, width: 960, height: Math.ceil(bottom) } });
  await page.evaluate(() => { document.body.style.zoom = ""; });
  // a phone's width: the brush's canvas fits, nothing overflows sideways
  await page.setViewportSize({ width: 390, height: 800 });
  const narrow = await page.evaluate(() => [document.documentElement.scrollWidth,
                                            document.getElementById("mask").getBoundingClientRect().right]);
  check(narrow[0] <= 390 && narrow[1] <= 390, "the regions fit a 390 px screen: page " + narrow[0] + " px, mask to " + narrow[1]);
  await page.setViewportSize(viewport);
  await page.uncheck("#regions");
  check(await page.isHidden("#regions-panel"), "the brush hides when regions are off");
}

// node e2e.js token URL SECRET: a --token server's page asks once for its
// first requests together (a wrong answer is asked again), then works, and
// a reload does not ask again (the token is kept in the browser).
async function tokenCase(url, secret) {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage();
    const errors = [], prompts = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("dialog", (d) => {
      prompts.push(d.message());
      d.accept(prompts.length === 1 ? "not-the-token-at-all" : secret);
    });
    await page.goto(url);
    await waitFor(page, "the styles listed after the token", () => document.querySelectorAll("#net option").length > 0,
                  null, { timeout: 20000 });
    check(prompts.length === 2, "asked " + prompts.length + " times, want 2 (a wrong token, then the right one): " +
          prompts.join(" | "));
    check(/asks for its access token/.test(prompts[0] || "") && /refused/.test(prompts[1] || ""),
          "the prompts say what they ask: " + prompts.join(" | "));
    const jobs = await page.evaluate(() => authFetch("/api/jobs").then((r) => r.status));
    check(jobs === 200, "the page's requests carry the token: HTTP " + jobs);
    await page.reload();
    await waitFor(page, "the styles listed after a reload", () => document.querySelectorAll("#net option").length > 0,
                  null, { timeout: 20000 });
    check(prompts.length === 2, "a reload asked again (" + prompts.length + " prompts)");
    check(errors.length === 0, "no script errors: " + errors.join("; "));
  } finally {
    await browser.close();
  }
}

if (process.argv[2] === "token") {
  tokenCase(process.argv[3], process.argv[4]).then(() => {
    console.log(passed + " passed, " + failed + " failed");
    process.exit(failed ? 1 : 0);
  }).catch((e) => { console.log("FAIL " + e.message); console.log("0 passed, 1 failed"); process.exit(1); });
} else (async () => {
  // the live camera: Chromium's fake camera plays CAMERA_Y4M (made by e2e.sh)
  const args = ["--no-sandbox"];
  if (process.env.CAMERA_Y4M)
    args.push("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              "--use-file-for-fake-video-capture=" + process.env.CAMERA_Y4M);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 860 }, acceptDownloads: true });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    check((await page.title()) === "nst studio", "page title");
    check(await page.isDisabled("#start"), "Paint is disabled before files are chosen");
    // before any job: a placeholder, not a broken image
    check(await page.isHidden("#preview") && await page.isVisible("#placeholder"),
          "a placeholder, no empty image, before any job");
    const dropFile = async (b64, name, type) => {
      const dt = await page.evaluateHandle(({ b64, name, type }) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const d = new DataTransfer();
        d.items.add(new File([bytes], name, { type }));
        return d;
      }, { b64, name, type });
      await page.dispatchEvent("#content-drop", "drop", { dataTransfer: dt });
    };
    // a text file, and a file named .jpg that is not one, are refused in the page with the reason
    await dropFile(Buffer.from("not a picture").toString("base64"), "notes.txt", "text/plain");
    await waitFor(page, "the text file's reason", () => /notes\.txt is not a picture/.test(document.getElementById("error").textContent));
    await dropFile(Buffer.from("not a picture").toString("base64"), "fake.jpg", "image/jpeg");
    await waitFor(page, "the fake JPEG's reason", () => /fake\.jpg is not a picture this browser can read/.test(document.getElementById("error").textContent));
    check(!(await page.$("#content-drop .thumbs")) && await page.isDisabled("#start"),
          "no thumbnail and Paint disabled after refused files");
    // the photo is dropped on its box, the painting chosen with the file dialog
    await dropFile(fs.readFileSync(content).toString("base64"), path.basename(content), "image/jpeg");
    await waitFor(page, "the dropped photo shown", (n) => document.querySelector("#content-drop span").textContent === n,
                  path.basename(content));
    check((await page.textContent("#error")) === "", "the error is cleared by a good photo");
    await page.setInputFiles("#style-file", style);
    await waitFor(page, "the painting shown", () => document.querySelector("#style-drop .thumbs"));
    await setRange(page, "size", size);
    await setRange(page, "iterations", iterations);
    check((await page.textContent("#size-out")) === size, "size slider shows its value");
    check(await page.isEnabled("#start"), "Paint is enabled once both images are chosen");
    // pretrained styles are offered
    const nets = await page.$$eval("#net option", (os) => os.map((o) => o.value));
    check(nets.includes("scream"), "pretrained styles listed: " + nets.join(","));

    await page.click("#start");
    // watch the preview while the job runs: distinct pixel sums of the image shown
    const sums = new Set();
    let progressSeen = 0, timeLeftSeen = false;
    const t0 = Date.now();
    while (Date.now() - t0 < 600000) {
      const s = await page.evaluate(() => {
        const img = document.getElementById("preview");
        const st = document.getElementById("state").textContent;
        let sum = null;
        if (img.complete && img.naturalWidth > 0 && !img.src.includes("result")) {
          const c = document.createElement("canvas");
          c.width = img.naturalWidth; c.height = img.naturalHeight;
          const g = c.getContext("2d");
          g.drawImage(img, 0, 0);
          sum = g.getImageData(0, 0, c.width, c.height).data.reduce((a, b) => a + b, 0);
        }
        return { sum, st, progress: document.getElementById("progress").value,
                 left: document.getElementById("time-left").textContent,
                 done: !document.getElementById("download").classList.contains("hidden") };
      });
      if (s.sum !== null) sums.add(s.sum);
      if (s.progress > 0 && s.progress < 1) progressSeen++;
      if (/s left/.test(s.left)) timeLeftSeen = true;
      if (s.done || /failed|cancelled/.test(s.st)) break;
      await page.waitForTimeout(100);
    }
    check(sums.size >= 2, "the preview changed while the job ran (" + sums.size + " distinct images)");
    check(progressSeen > 0, "the progress bar moved");
    check(timeLeftSeen, "time left was shown");
    const state = await page.textContent("#state");
    check(/done/.test(state), "job finished: " + state);

    // download the result
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const file = path.join(path.dirname(shot), "e2e_download.png");
    await download.saveAs(file);
    const got = fs.readFileSync(file);
    const id = state.match(/Job (\d+)/)[1];
    const want = Buffer.from(await (await page.request.get(url + "api/jobs/" + id + "/result")).body());
    check(got.equals(want), "the download is the job's result");
    const h = Math.round(Number(size) * 768 / 1024);
    check(pngSize(got) === size + "x" + h, "the download is a " + size + "x" + h + " PNG: " + pngSize(got));
    fs.unlinkSync(file);

    await page.waitForSelector("#gallery img");
    check((await page.$$("#gallery img")).length >= 1, "the gallery shows the result");
    const caption = await page.textContent("#gallery figcaption span");
    check(caption.includes(path.basename(content)) && caption.includes(path.basename(style)),
          "the gallery's caption names the photo and the painting: " + caption);
    await waitFor(page, "a picture in the preview", () => document.getElementById("preview").naturalWidth > 0);
    await page.screenshot({ path: shot });
    // "Instant (one pass, any painting)": the same painting through the arbitrary-style pair
    check(await page.isEnabled("#fast"), "the instant choice is offered beside the optimisation");
    await page.check("#fast");
    check(await page.isHidden("#row-iterations"), "no iterations for an instant job");
    await page.click("#start");
    await page.waitForFunction((old) => {
      const m = document.getElementById("state").textContent.match(/Job (\d+): (done|failed)/);
      return m && m[1] !== old;
    }, id, { timeout: 60000 }).catch(async (e) => {
      throw new Error("instant job: " + e.message.split("\n")[0] + ", state: " + await page.textContent("#state") +
                      ", error: " + await page.textContent("#error"));
    });
    const fastState = await page.textContent("#state");
    check(/done/.test(fastState), "instant job finished: " + fastState);
    const fastId = fastState.match(/Job (\d+)/)[1];
    const fastJob = await (await page.request.get(url + "api/jobs/" + fastId)).json();
    check(fastJob.params.fast === 1 && fastJob.kind === "apply", "the page sent fast=1: " + JSON.stringify(fastJob.params));
    const fastPng = Buffer.from(await (await page.request.get(url + "api/jobs/" + fastId + "/result")).body());
    check(pngSize(fastPng) === size + "x" + h, "the instant result is a " + size + "x" + h + " PNG: " + pngSize(fastPng));
    await waitFor(page, "the instant result shown", () => document.getElementById("preview").src.includes("result"));
    await page.uncheck("#fast");
    if (process.env.CAMERA_Y4M) {
      // start the live camera (160x120, or CAMERA_SIZE), wait for painted frames and a frame rate
      const camSize = process.env.CAMERA_SIZE || "160x120";
      await page.selectOption("#camera-size", camSize);
      await page.selectOption("#video-net", "wave");
      await page.click("#camera-start");
      const c0 = Date.now();
      await waitFor(page, "a painted camera frame", () => document.getElementById("camera-out").naturalWidth > 0, null, { timeout: 60000 });
      check((await page.$eval("#camera-out", (el) => el.naturalWidth + "x" + el.naturalHeight)) === camSize,
            "painted camera frames of " + camSize);
      await waitFor(page, "the camera's frame rate", () => Number(document.getElementById("camera-fps").textContent) > 0, null, { timeout: 60000 });
      await page.waitForTimeout(4000); // a steady rate
      const fps = Number(await page.textContent("#camera-fps"));
      check(fps > 0, "the camera's frame rate is shown: " + fps);
      console.log("camera: first painted frame after " + (Date.now() - c0) + " ms, " + fps + " frames/s at " + camSize);
      // the frames keep changing (the fake camera's picture moves)
      const a = await page.$eval("#camera-out", (el) => el.src);
      await page.waitForTimeout(500);
      check(a !== (await page.$eval("#camera-out", (el) => el.src)), "new camera frames keep coming");
      await page.$eval("#camera-out", (el) => el.scrollIntoView({ block: "center" }));
      await page.screenshot({ path: shot.replace(/\.png$/, "") + "_camera.png" });
      await page.click("#camera-stop");
    }
    if (process.env.CLIP) {
      // a clip through the page: a video job, frame progress, the MP4 plays
      await page.setInputFiles("#video-file", process.env.CLIP);
      await page.click("#video-start");
      await waitFor(page, "the clip's job", () => /done/.test(document.getElementById("video-state").textContent), null,
                                 { timeout: 120000 });
      check(/Job \d+: done/.test(await page.textContent("#video-state")), "the clip's job is done");
      await waitFor(page, "the painted clip", () => document.getElementById("video-result").readyState >= 2, null, { timeout: 30000 });
      check((await page.$eval("#video-result", (v) => v.videoWidth + "x" + v.videoHeight)) === "160x120",
            "the painted clip plays at 160x120: " + await page.$eval("#video-result", (v) => v.videoWidth + "x" + v.videoHeight + " error " + (v.error && v.error.message)));
    }
    // Delete in the gallery removes the picture from the page and the server
    await page.check("#fast");
    await page.click("#start");
    await page.waitForFunction((old) => {
      const m = document.getElementById("state").textContent.match(/Job (\d+): done/);
      return m && m[1] !== old;
    }, fastId, { timeout: 60000 });
    const delId = (await page.textContent("#state")).match(/Job (\d+)/)[1];
    await page.waitForSelector(`#gallery img[alt="result ${delId}"]`);
    page.once("dialog", (d) => d.accept());
    await page.click(`#gallery figure:has(img[alt="result ${delId}"]) button.delete`);
    await page.waitForSelector(`#gallery img[alt="result ${delId}"]`, { state: "detached", timeout: 10000 });
    const gone = await page.request.get(url + "api/jobs/" + delId);
    check(gone.status() === 404, "the deleted job is gone from the server: HTTP " + gone.status());
    await regionsCase(page, url, shot);
    check(errors.length === 0, "no script errors: " + errors.join("; "));
  } finally {
    await browser.close();
  }
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.log("FAIL " + e.message); console.log("0 passed, 1 failed"); process.exit(1); });
