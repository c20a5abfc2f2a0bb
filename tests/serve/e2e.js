// e2e.js: the studio page in a real headless Chromium (Debian's), driven by
// playwright-core: drop a photo and choose a painting, start a small job, see the
// preview change while it runs, wait for the result, download it and check
// it is the server's PNG of the right size; save a screenshot; then the same
// painting "instant" (fast=1, one pass of the arbitrary-style pair).
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
    check(errors.length === 0, "no script errors: " + errors.join("; "));
  } finally {
    await browser.close();
  }
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.log("FAIL " + e.message); console.log("0 passed, 1 failed"); process.exit(1); });
