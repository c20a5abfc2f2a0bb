/* batch_file.c: the jobs of nst stylize --batch, a CSV file (RFC 4180:
 * fields separated by commas, quoted with "..." where they hold a comma or
 * a quote, "" for a quote). The first row names the columns: content,
 * style, output and, optionally, options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* One field from *p (advanced past it and its separator) into out; 1 at
 * the end of the row. */
static int next_field(const char **p, char *out, size_t cap, int *too_long, int *bad_quote) {
    const char *s = *p + strspn(*p, " \t");
    size_t n = 0;
    int quoted = *s == '"', was_quoted = quoted;
    if (quoted) s++;
    for (;; s++) {
        if (quoted && *s == '"' && s[1] == '"') s++; /* "" inside quotes */
        else if (quoted && *s == '"') {
            quoted = 0;
            if (s[1] && s[1] != ',' && s[1] != '\n' && s[1] != '\r') *bad_quote = 1;
            continue;
        } else if (!*s || (!quoted && (*s == ',' || *s == '\n' || *s == '\r'))) break;
        if (n + 1 < cap) out[n++] = *s;
        else *too_long = 1;
    }
    if (quoted) *bad_quote = 1;
    out[n] = 0;
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\t') && !was_quoted) out[--n] = 0;
    int end = *s != ',';
    *p = *s == ',' ? s + 1 : s;
    return end;
}

static const char *const columns[BATCH_COLUMNS] = {"content", "style", "output", "options"};

int batch_file_read(const char *path, batch_file *b, nst_error *err) {
    memset(b, 0, sizeof *b);
    FILE *f = fopen(path, "rb");
    if (!f) return nst_fail(err, NST_ERR_ARG, "%s: cannot open the batch file: %s", path, strerror(errno));
    int col[BATCH_COLUMNS] = {-1, -1, -1, -1}, n_cols = 0, line_no = 0, rc = NST_OK;
    char line[8192], field[BATCH_FIELD];
    while (!rc && fgets(line, sizeof line, f)) {
        line_no++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = nst_fail(err, NST_ERR_ARG, "%s:%d: a line longer than %zu bytes", path, line_no, sizeof line - 2);
            break;
        }
        if (strspn(line, " \t\r\n") == len || line[0] == '#') continue; /* blank lines, comments */
        batch_job job = {0};
        const char *p = line;
        int too_long = 0, bad_quote = 0;
        for (int k = 0, end = 0; !end; k++) {
            end = next_field(&p, field, sizeof field, &too_long, &bad_quote);
            if (!n_cols) { /* the header */
                int c = 0;
                while (c < BATCH_COLUMNS && strcmp(field, columns[c])) c++;
                if (c == BATCH_COLUMNS || col[c] >= 0) {
                    rc = nst_fail(err, NST_ERR_ARG, "%s:%d: column '%s' is %s (the header names content, "
                                  "style, output and optionally options)", path, line_no, field,
                                  c == BATCH_COLUMNS ? "unknown" : "named twice");
                    break;
                }
                col[c] = k;
                continue;
            }
            for (int c = 0; c < BATCH_COLUMNS; c++)
                if (col[c] == k) snprintf(job.field[c], sizeof job.field[c], "%s", field);
            if (k >= n_cols) too_long = 2;
        }
        if (rc) break;
        if (!n_cols) {
            for (int c = 0; c < 3 && !rc; c++)
                if (col[c] < 0)
                    rc = nst_fail(err, NST_ERR_ARG, "%s:%d: the header has no '%s' column (it names "
                                  "content, style, output and optionally options)", path, line_no, columns[c]);
            n_cols = 1;
            for (int c = 0; c < BATCH_COLUMNS; c++) n_cols = col[c] + 1 > n_cols ? col[c] + 1 : n_cols;
            continue;
        }
        if (bad_quote) rc = nst_fail(err, NST_ERR_ARG, "%s:%d: an unclosed or stray quote", path, line_no);
        else if (too_long == 1)
            rc = nst_fail(err, NST_ERR_ARG, "%s:%d: a field longer than %d bytes", path, line_no, BATCH_FIELD - 1);
        else if (too_long == 2)
            rc = nst_fail(err, NST_ERR_ARG, "%s:%d: more fields than the header's %d", path, line_no, n_cols);
        for (int c = 0; c < 3 && !rc; c++)
            if (!job.field[c][0]) rc = nst_fail(err, NST_ERR_ARG, "%s:%d: no %s", path, line_no, columns[c]);
        if (rc) break;
        if (b->n == b->cap) {
            int cap = b->cap ? 2 * b->cap : 16;
            batch_job *j = realloc(b->jobs, (size_t)cap * sizeof *j);
            if (!j) {
                rc = nst_fail(err, NST_ERR_NOMEM, "%s: out of memory at line %d", path, line_no);
                break;
            }
            b->jobs = j, b->cap = cap;
        }
        job.line = line_no;
        b->jobs[b->n++] = job;
    }
    if (!rc && ferror(f)) rc = nst_fail(err, NST_ERR_ARG, "%s: read error: %s", path, strerror(errno));
    if (!rc && !n_cols) rc = nst_fail(err, NST_ERR_ARG, "%s: empty (a header row and a job per row)", path);
    if (!rc && !b->n) rc = nst_fail(err, NST_ERR_ARG, "%s: a header but no jobs", path);
    fclose(f);
    if (rc) batch_file_free(b);
    return rc;
}

void batch_file_free(batch_file *b) {
    free(b->jobs);
    memset(b, 0, sizeof *b);
}
