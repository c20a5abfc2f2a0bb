/* store.c: the jobs of nst serve in SQLite (<data>/nst.db): parameters,
 * state, progress, losses and timings. One connection behind one mutex; the
 * statements are short, and WAL journaling lets a commit skip fsync while
 * surviving a killed process. */
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "serve/serve.h"

struct store {
    sqlite3 *db;
    pthread_mutex_t mu;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"           /* stylize | apply | video */
    " state TEXT NOT NULL,"          /* new | queued | running | done | failed | cancelled */
    " params TEXT NOT NULL,"         /* JSON object of the request's fields */
    " names TEXT,"                   /* JSON array: the uploaded files' names (captions) */
    " client TEXT,"                  /* who submitted it (client_key), for the per-client limit */
    " styles INTEGER NOT NULL DEFAULT 0,"
    " net TEXT,"
    " created REAL, started REAL, finished REAL," /* unix seconds */
    " progress REAL NOT NULL DEFAULT 0," /* 0..1 */
    " iteration INTEGER, total INTEGER, scale INTEGER, scales INTEGER,"
    " loss REAL, content_loss REAL, style_loss REAL, tv_loss REAL,"
    " elapsed REAL, remaining REAL,"
    " error TEXT);";

static double unix_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int store_open(store **out, const char *dir, nst_error *err) {
    char path[NST_PATH_MAX];
    if (path_printf(path, sizeof path, "%s/nst.db", dir))
        return nst_fail(err, NST_ERR_ARG, "%s: data directory path too long", dir);
    store *s = calloc(1, sizeof *s);
    if (!s) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             NULL);
    if (rc == SQLITE_OK) sqlite3_busy_timeout(s->db, 5000);
    if (rc == SQLITE_OK) rc = sqlite3_exec(s->db, schema, NULL, NULL, &msg);
    /* a database from before `names` or `client`: the column added (its
     * jobs have none) */
    static const char *added[] = {"ALTER TABLE jobs ADD COLUMN names TEXT", "ALTER TABLE jobs ADD COLUMN client TEXT"};
    for (int k = 0; k < 2 && rc == SQLITE_OK; k++)
        if (sqlite3_exec(s->db, added[k], NULL, NULL, &msg) != SQLITE_OK) {
            if (msg && !strstr(msg, "duplicate column")) rc = SQLITE_ERROR;
            else sqlite3_free(msg), msg = NULL;
        }
    /* a killed server: its running jobs resume, half-received uploads fail */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db,
                          "UPDATE jobs SET state='queued' WHERE state='running';"
                          "DELETE FROM jobs WHERE state='new';",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        nst_fail(err, NST_ERR_IO, "%s: %s", path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        sqlite3_close(s->db);
        free(s);
        return NST_ERR_IO;
    }
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return NST_OK;
}

void store_close(store *s) {
    if (!s) return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Prepare sql and bind the arguments described by `types` ('i' long, 'd'
 * double, 's' string or NULL). The caller holds the mutex. */
static sqlite3_stmt *prepare(store *s, const char *sql, const char *types, va_list ap) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "nst serve: database: %s\n", sqlite3_errmsg(s->db));
        return NULL;
    }
    for (int i = 0; types[i]; i++) {
        if (types[i] == 'i') sqlite3_bind_int64(st, i + 1, va_arg(ap, long));
        else if (types[i] == 'd') sqlite3_bind_double(st, i + 1, va_arg(ap, double));
        else sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
    }
    return st;
}

/* Run a statement that returns no rows, with the mutex held; logs a
 * failure. Returns the rows changed, -1 on failure. */
static int vexec(store *s, const char *sql, const char *types, va_list ap) {
    sqlite3_stmt *st = prepare(s, sql, types, ap);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st && rc != SQLITE_DONE) fprintf(stderr, "nst serve: database: %s\n", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? sqlite3_changes(s->db) : -1;
}

static int exec_locked(store *s, const char *sql, const char *types, ...) {
    va_list ap;
    va_start(ap, types);
    int rc = vexec(s, sql, types, ap);
    va_end(ap);
    return rc;
}

static int exec(store *s, const char *sql, const char *types, ...) {
    va_list ap;
    va_start(ap, types);
    pthread_mutex_lock(&s->mu);
    int rc = vexec(s, sql, types, ap);
    pthread_mutex_unlock(&s->mu);
    va_end(ap);
    return rc;
}

long store_insert(store *s, const char *kind, const char *params_json, const char *names_json, int n_styles,
                  const char *net, const char *client) {
    pthread_mutex_lock(&s->mu);
    long id = exec_locked(s, "INSERT INTO jobs(kind, state, params, names, styles, net, created, client) "
                             "VALUES(?,'new',?,?,?,?,?,?)",
                          "sssisds", kind, params_json, names_json, (long)n_styles, net, unix_now(), client) == 1
                  ? (long)sqlite3_last_insert_rowid(s->db)
                  : 0;
    pthread_mutex_unlock(&s->mu);
    return id;
}

/* A row as a JSON object: columns by name, params parsed. */
static cJSON *row_json(sqlite3_stmt *st) {
    cJSON *o = cJSON_CreateObject();
    for (int c = 0; o && c < sqlite3_column_count(st); c++) {
        const char *name = sqlite3_column_name(st, c);
        switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER: cJSON_AddNumberToObject(o, name, (double)sqlite3_column_int64(st, c)); break;
        case SQLITE_FLOAT: cJSON_AddNumberToObject(o, name, sqlite3_column_double(st, c)); break;
        case SQLITE_NULL: cJSON_AddNullToObject(o, name); break;
        default: {
            const char *text = (const char *)sqlite3_column_text(st, c);
            cJSON *v = strcmp(name, "params") && strcmp(name, "names") ? NULL : cJSON_Parse(text);
            cJSON_AddItemToObject(o, name, v ? v : cJSON_CreateString(text));
        }
        }
    }
    return o;
}

static cJSON *query_json(store *s, const char *sql, const char *types, ...) {
    va_list ap;
    va_start(ap, types);
    pthread_mutex_lock(&s->mu);
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = prepare(s, sql, types, ap);
    while (st && arr && sqlite3_step(st) == SQLITE_ROW) cJSON_AddItemToArray(arr, row_json(st));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    va_end(ap);
    return arr;
}

#define JOB_COLUMNS                                                                              \
    "id, kind, state, params, names, styles, net, created, started, finished, progress, iteration, " \
    "total, scale, scales, loss, content_loss, style_loss, tv_loss, elapsed, remaining, error"

cJSON *store_get(store *s, long id) {
    cJSON *arr = query_json(s, "SELECT " JOB_COLUMNS " FROM jobs WHERE id=? AND state!='new'", "i", id);
    cJSON *job = arr ? cJSON_DetachItemFromArray(arr, 0) : NULL;
    cJSON_Delete(arr);
    return job;
}

cJSON *store_list(store *s, int limit) {
    return query_json(s, "SELECT " JOB_COLUMNS " FROM jobs WHERE state!='new' ORDER BY id DESC LIMIT ?",
                      "i", (long)limit);
}

void store_state(store *s, long id, char *state, size_t n) {
    cJSON *job = store_get(s, id);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(job, "state");
    snprintf(state, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
    cJSON_Delete(job);
}

int store_transition(store *s, long id, const char *from, const char *to, const char *error) {
    int ended = !strcmp(to, "done") || !strcmp(to, "failed") || !strcmp(to, "cancelled");
    return exec(s, "UPDATE jobs SET state=?, error=?, finished=?, progress=CASE WHEN ?='done' THEN 1 "
                   "ELSE progress END WHERE id=? AND state=?",
                "ssdsis", to, error, ended ? unix_now() : 0.0, to, id, from) == 1;
}

long store_claim(store *s, const char *kind, char **params_json, int *n_styles, char net[64]) {
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    long id = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, params, styles, net FROM jobs WHERE state='queued' AND kind=? "
                           "ORDER BY id LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *p = (const char *)sqlite3_column_text(st, 1);
            const char *n = (const char *)sqlite3_column_text(st, 3);
            *params_json = strdup(p ? p : "{}");
            if (*params_json) id = (long)sqlite3_column_int64(st, 0);
            *n_styles = sqlite3_column_int(st, 2);
            snprintf(net, 64, "%s", n ? n : "");
        }
    }
    sqlite3_finalize(st);
    if (id && exec_locked(s, "UPDATE jobs SET state='running', started=? WHERE id=?", "di",
                          unix_now(), id) != 1) {
        free(*params_json);
        id = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return id;
}

void store_progress(store *s, long id, const nst_progress *p, double fraction) {
    exec(s, "UPDATE jobs SET progress=?, iteration=?, total=?, scale=?, scales=?, loss=?, "
            "content_loss=?, style_loss=?, tv_loss=?, elapsed=?, remaining=? WHERE id=?",
         "diiiidddddd" "i", fraction, (long)p->iteration, (long)p->total, (long)p->scale,
         (long)p->scales, p->loss, p->content, p->style, p->tv, p->elapsed, p->remaining, id);
}

void store_progress_video(store *s, long id, const nst_video_progress *p) {
    double fraction = p->total > 0 ? (double)p->frame / p->total : 0;
    exec(s, "UPDATE jobs SET progress=?, iteration=?, total=?, elapsed=?, remaining=? WHERE id=?", "diiddi",
         fraction < 1 ? fraction : 0.999, (long)p->frame, (long)p->total, p->elapsed, p->remaining, id);
}

int store_active(store *s, const char *client) {
    cJSON *arr = client ? query_json(s, "SELECT count(*) AS n FROM jobs WHERE state IN ('queued','running','new') "
                                        "AND client=?", "s", client)
                        : query_json(s, "SELECT count(*) AS n FROM jobs WHERE state IN ('queued','running','new')", "");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "n");
    int count = cJSON_IsNumber(n) ? n->valueint : 0;
    cJSON_Delete(arr);
    return count;
}

/* A refused upload gives its id back when it was the last one issued, so
 * that the valid jobs' ids count 1, 2, 3 (AUTOINCREMENT never reuses an id
 * otherwise; lowering the sequence only past this id reuses no other). */
void store_delete_new(store *s, long id) {
    exec(s, "DELETE FROM jobs WHERE id=? AND state='new'", "i", id);
    exec(s, "UPDATE sqlite_sequence SET seq=seq-1 WHERE name='jobs' AND seq=?", "i", id);
}

#define ENDED "state IN ('done', 'failed', 'cancelled')"

int store_delete_ended(store *s, long id) {
    return exec(s, "DELETE FROM jobs WHERE id=? AND " ENDED, "i", id) == 1;
}

cJSON *store_ended_before(store *s, double before) {
    return query_json(s, "SELECT id FROM jobs WHERE " ENDED " AND finished>0 AND finished<?", "d", before);
}

void store_params(store *s, long id, const char *params_json) {
    exec(s, "UPDATE jobs SET params=? WHERE id=? AND state='new'", "si", params_json, id);
}
