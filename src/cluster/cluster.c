/* cluster.c: MPI for the commands (see cluster.h). */
#include "cluster/cluster.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cluster_info me = {0, 1, 0, 1};
static int started; /* MPI_Init ran */

/* The variables that mpirun (Open MPI), PMIx (srun --mpi=pmix) and PMI
 * (srun --mpi=pmi2, MPICH's hydra) set in every rank they start. */
static int launched_by_mpi(void) {
    static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (getenv(names[i])) return 1;
    return 0;
}

int cluster_init(int *argc, char ***argv) {
    if (!launched_by_mpi()) return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return -1;
    started = 1;
    atexit(cluster_finalize); /* also after exit(), as --help takes */
    MPI_Comm_rank(MPI_COMM_WORLD, &me.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &me.size);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me.rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, &me.local_rank);
        MPI_Comm_size(node, &me.local_size);
        MPI_Comm_free(&node);
    }
    return 0;
}

void cluster_finalize(void) {
    if (started) MPI_Finalize();
    started = 0;
}

const cluster_info *cluster(void) { return &me; }

int cluster_threads(int requested) {
    if (requested > 0 || me.size == 1) return requested;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int t = (int)(cores / me.local_size);
    return t > 0 ? t : 1;
}

int cluster_sum_floats(float *buf, size_t n) {
    /* MPI counts are ints: large buffers go in pieces */
    for (size_t at = 0; started && me.size > 1 && at < n;) {
        int m = n - at > (size_t)1 << 30 ? 1 << 30 : (int)(n - at);
        if (MPI_Allreduce(MPI_IN_PLACE, buf + at, m, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
        at += (size_t)m;
    }
    return 0;
}

int cluster_all_started(int rc, nst_error *err) {
    int failed = rc != 0, any = failed;
    if (started && me.size > 1) MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return rc || !any ? rc : nst_fail(err, NST_ERR_RUNTIME, "another rank could not start (its message says why)");
}

/* What a rank tells rank 0: a job done (job >= 0) or a note (job < 0). */
typedef struct {
    int job, failed, rank;
    char line[512];
} job_done;

enum { TAG_NEWS = 17 };

/* Rank 0 prints a note, or a job done with its count k of n. */
static void print_news(const job_done *d, int k, int n, int quiet) {
    if (d->job < 0) {
        if (me.size == 1) fprintf(stderr, "nst: %s\n", d->line);
        else fprintf(stderr, "nst: rank %d: %s\n", d->rank, d->line);
    } else if (!quiet || d->failed) {
        if (me.size == 1) fprintf(stderr, "nst: %s\n", d->line);
        else fprintf(stderr, "nst: [%d/%d] rank %d: %s\n", k, n, d->rank, d->line);
    }
}

/* Rank 0: print what the other ranks sent; block: wait for one message.
 * Returns the jobs done among them. */
static int hear(int n, int heard, int quiet, int block) {
    int jobs = 0;
    for (int flag = 1; me.size > 1 && flag;) {
        if (!block) MPI_Iprobe(MPI_ANY_SOURCE, TAG_NEWS, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        if (!flag) break;
        job_done d;
        MPI_Recv(&d, (int)sizeof d, MPI_BYTE, MPI_ANY_SOURCE, TAG_NEWS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        d.line[sizeof d.line - 1] = 0;
        if (d.job >= 0) jobs++;
        print_news(&d, heard + jobs, n, quiet);
        if (block) break;
    }
    return jobs;
}

static void tell(const job_done *d) { MPI_Send(d, (int)sizeof *d, MPI_BYTE, 0, TAG_NEWS, MPI_COMM_WORLD); }

static int run_n, run_heard, run_quiet; /* the cluster_run in progress (rank 0) */

void cluster_note(const char *line) {
    job_done d = {-1, 0, me.rank, ""};
    snprintf(d.line, sizeof d.line, "%s", line);
    if (me.rank == 0) {
        print_news(&d, 0, 0, 0);
        run_heard += hear(run_n, run_heard, run_quiet, 0);
    } else {
        tell(&d);
    }
}

int cluster_run(int n, cluster_job job, void *user, int quiet) {
    int failed = 0;
    run_n = n, run_heard = 0, run_quiet = quiet; /* rank 0: jobs it has heard of, its own included */
    for (int i = me.rank; i < n; i += me.size) {
        job_done d = {i, 0, me.rank, ""};
        d.failed = job(i, user, d.line, sizeof d.line) != 0;
        failed += d.failed;
        if (me.rank == 0) {
            run_heard++;
            print_news(&d, run_heard, n, quiet);
            run_heard += hear(n, run_heard, quiet, 0); /* the others' news between its own jobs */
        } else {
            tell(&d);
        }
    }
    while (me.rank == 0 && run_heard < n) run_heard += hear(n, run_heard, quiet, 1);
    if (started && me.size > 1) MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return failed;
}
