/* video.h: what nst_video_file (video_file.c) needs of nst_video beyond
 * the public API. */
#ifndef NST_VIDEO_H
#define NST_VIDEO_H

#include "nst.h"

/* Put v where it stood after `frames` frames, the last of which had input
 * prev_in and output prev_out (both v's size): the next nst_video_frame
 * then paints what it would have in an uninterrupted run. */
void video_restore(nst_video *v, const nst_image *prev_in, const nst_image *prev_out, int frames);

#endif
