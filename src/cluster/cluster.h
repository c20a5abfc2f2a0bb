/* cluster.h: the process's place in an MPI job (Open MPI's mpirun, Slurm's
 * srun) and the few collective steps the commands need. A process that no
 * MPI launcher started never initialises MPI: it is a job of one rank, and
 * every function below is then a no-op or a copy. */
#ifndef NST_CLUSTER_H
#define NST_CLUSTER_H

#include <stddef.h>

#include "nst.h"

typedef struct {
    int rank, size;             /* in the whole job */
    int local_rank, local_size; /* among the ranks of this machine */
} cluster_info;

/* MPI_Init when an MPI launcher started this process (its environment
 * names a rank); otherwise rank 0 of 1. Returns 0, or -1 if MPI failed. */
int cluster_init(int *argc, char ***argv);
void cluster_finalize(void);
const cluster_info *cluster(void);
/* The thread count: `requested` if set (> 0), else this machine's cores
 * shared by its ranks (0, "all cores", for a job of one). */
int cluster_threads(int requested);
/* buf[i] = sum over the ranks of buf[i]. */
int cluster_sum_floats(float *buf, size_t n);
/* Every rank goes on, or none: rc, or where another rank failed (rc != 0)
 * and this one did not, a runtime error saying so (a rank waiting for
 * another in a collective step would hang). */
int cluster_all_started(int rc, nst_error *err);

/* Jobs 0 .. n - 1 split over the ranks (job i on rank i % size). job()
 * runs one and writes what it did into line ("wrote x.png (512x384,
 * 0.4 s)"), or why it failed, returning nonzero. Rank 0 prints every
 * rank's lines as they come, numbered "[k/n] rank r:" in a job of several
 * ranks; quiet: the failures only. Returns the number of failed jobs over
 * all ranks, on every rank. */
typedef int (*cluster_job)(int i, void *user, char *line, size_t cap);
int cluster_run(int n, cluster_job job, void *user, int quiet);
/* A line of progress from inside a job ("frame 12/40 ..."): rank 0 prints
 * it as "rank r: line" (every rank's, as they come; "nst: line" in a job
 * of one). */
void cluster_note(const char *line);

#endif
