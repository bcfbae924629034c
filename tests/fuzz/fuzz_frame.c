/* Fuzz frame_next: frames from a client, in reads of any length. Each
 * frame taken must lie in what was received and come back the same
 * through frame_add. */
#include "proto/proto.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

/* Check a frame taken from in: its payload is the bytes after its
 * header, and frame_add makes the same header and payload again. */
static void
check_frame(const char *frame, int type, const char *p, size_t n)
{
	struct sbuf	 again = { 0 };

	if (p != frame + FRAME_HEADER || n > FRAME_MAX)
		abort();
	if (frame_add(&again, type, p, n) != 0 ||
	    sbuf_len(&again) != FRAME_HEADER + n ||
	    memcmp(sbuf_ptr(&again), frame, FRAME_HEADER + n) != 0)
		abort();
	sbuf_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf	 in = { 0 };
	struct reads	 r;
	const char	*p, *frame;
	char		*chunk;
	size_t		 n, avail;
	int		 type, got = 0;

	reads_start(&r, data, size);
	while (got >= 0 && reads_next(&r, &chunk, &n)) {
		if (sbuf_add(&in, chunk, n) != 0)
			abort();
		free(chunk);
		for (;;) {
			frame = sbuf_ptr(&in);
			avail = sbuf_len(&in);
			if ((got = frame_next(&in, &type, &p, &n)) != 1)
				break;
			if (n > avail || FRAME_HEADER > avail - n ||
			    sbuf_len(&in) != avail - FRAME_HEADER - n)
				abort();	/* more than was received */
			check_frame(frame, type, p, n);
		}
	}
	sbuf_free(&in);
	return 0;
}
