/* A plain client's input (nc, telnet): telnet commands taken out (IAC IP
 * is Ctrl-C), the text queued as lines of at most SERVE_LINE_MAX bytes;
 * the rest of a longer line is dropped. Pure C: bytes in, lines and
 * events out. */
#include "proto/proto.h"

#include <string.h>

/* Telnet: IAC, its commands, and where we are in one. */
enum { TN_DATA, TN_IAC, TN_OPTION, TN_SB, TN_SB_IAC };
#define TN_IAC_BYTE	255
#define TN_IP		244	/* interrupt process: Ctrl-C */
#define TN_SB_BYTE	250
#define TN_SE		240
#define TN_WILL		251	/* WILL, WONT, DO, DONT take an option */

/* Queue text up to its first newline (included); *used: the bytes
 * taken. LINES_TOO_LONG when the line goes over the limit, -1 (ENOMEM). */
static int
lines_text(struct lines *l, const char *p, size_t n, size_t *used)
{
	const char	*nl = memchr(p, '\n', n);
	size_t		 k = nl != NULL ? (size_t)(nl - p) + 1 : n;
	size_t		 line = nl != NULL ? k - 1 : k;
	int		 started;

	*used = k;
	if (l->discarding || l->partial + line > SERVE_LINE_MAX) {
		started = !l->discarding;
		if (started) {
			l->buf.end -= l->partial;
			l->partial = 0;
		}
		l->discarding = nl == NULL;
		return started ? LINES_TOO_LONG : LINES_DONE;
	}
	if (sbuf_add(&l->buf, p, k) != 0)
		return -1;
	l->partial = nl != NULL ? 0 : l->partial + k;
	return LINES_DONE;
}

/* One byte after IAC; *used: 0 when it is to be read again as text. */
static int
lines_command(struct lines *l, const char *p, size_t *used)
{
	unsigned char	ch = *p;
	size_t		k;

	l->telnet = TN_DATA;
	*used = 1;
	if (ch == TN_IAC_BYTE)
		return lines_text(l, p, 1, &k);	/* IAC IAC: the byte 255 */
	if (ch == TN_IP)
		return LINES_INTERRUPT;
	if (ch >= TN_WILL)
		l->telnet = TN_OPTION;
	else if (ch == TN_SB_BYTE)
		l->telnet = TN_SB;
	else if (ch < TN_SE) {
		/* Not telnet: IAC is text, and so is this byte. */
		*used = 0;
		return lines_text(l, "\377", 1, &k);
	}
	return LINES_DONE;
}

/* Take the n bytes at *p, up to the first event: LINES_DONE when all
 * are taken, LINES_TOO_LONG or LINES_INTERRUPT (*p and *n then say what
 * is left), -1 with errno ENOMEM. */
int
lines_input(struct lines *l, const char **p, size_t *n)
{
	const char	*iac;
	size_t		 k;
	int		 r = LINES_DONE;

	while (*n > 0 && r == LINES_DONE) {
		k = 1;
		switch (l->telnet) {
		case TN_DATA:
			if ((unsigned char)**p == TN_IAC_BYTE) {
				l->telnet = TN_IAC;
				break;
			}
			iac = memchr(*p, TN_IAC_BYTE, *n);
			r = lines_text(l, *p, iac != NULL ? (size_t)(iac - *p) :
			    *n, &k);
			break;
		case TN_IAC:
			r = lines_command(l, *p, &k);
			break;
		case TN_OPTION:
			l->telnet = TN_DATA;
			break;
		case TN_SB:
			if ((unsigned char)**p == TN_IAC_BYTE)
				l->telnet = TN_SB_IAC;
			break;
		case TN_SB_IAC:
			l->telnet = (unsigned char)**p == TN_SE ? TN_DATA : TN_SB;
			break;
		}
		if (r < 0)
			return -1;
		*p += k;
		*n -= k;
	}
	return r;
}

#define TN_NOP		241	/* what a Ctrl-C taken already becomes */

/* Bytes read ahead of lines_input() (proto/scan.c), from the telnet
 * state *telnet: pass over them as it will, rewriting each IAC IP to
 * IAC NOP; the number rewritten, *past: the offset after the last. */
int
lines_scan(int *telnet, char *p, size_t n, size_t *past)
{
	unsigned char	ch;
	size_t		i = 0;
	int		found = 0;

	while (i < n) {
		ch = (unsigned char)p[i];
		switch (*telnet) {
		case TN_DATA:
			if (ch == TN_IAC_BYTE)
				*telnet = TN_IAC;
			break;
		case TN_IAC:
			*telnet = TN_DATA;
			if (ch == TN_IAC_BYTE)
				;	/* IAC IAC: the byte 255 */
			else if (ch == TN_IP) {
				p[i] = (char)TN_NOP;
				*past = i + 1;
				found++;
			} else if (ch >= TN_WILL)
				*telnet = TN_OPTION;
			else if (ch == TN_SB_BYTE)
				*telnet = TN_SB;
			else if (ch < TN_SE)
				continue;	/* text: read again as such */
			break;
		case TN_OPTION:
			*telnet = TN_DATA;
			break;
		case TN_SB:
			if (ch == TN_IAC_BYTE)
				*telnet = TN_SB_IAC;
			break;
		case TN_SB_IAC:
			*telnet = ch == TN_SE ? TN_DATA : TN_SB;
			break;
		}
		i++;
	}
	return found;
}

/* Queue a whole line (a --connect client's, never mixed with plain
 * text); -1 (ENOMEM). */
int
lines_add(struct lines *l, const char *p, size_t n)
{
	if (sbuf_add(&l->buf, p, n) != 0 || sbuf_add(&l->buf, "\n", 1) != 0)
		return -1;
	return 0;
}

/* The first queued line, without its "\r\n" or "\n": 1, and the line
 * (valid until the next change: taking it frees nothing), or 0. */
int
lines_next(struct lines *l, const char **line, size_t *len)
{
	const char	*p = sbuf_ptr(&l->buf), *nl;
	size_t		 n;

	if ((nl = memchr(p, '\n', lines_queued(l))) == NULL)
		return 0;
	n = nl - p;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	sbuf_drop(&l->buf, nl + 1 - p);
	*line = p;
	*len = n;
	return 1;
}

/* The input ended: an unfinished line is a line. -1 (ENOMEM). */
int
lines_end(struct lines *l)
{
	if (l->partial == 0 || l->discarding)
		return 0;
	if (sbuf_add(&l->buf, "\n", 1) != 0)
		return -1;
	l->partial = 0;
	return 0;
}

/* Drop every line, the unfinished one too (Ctrl-C drops type-ahead); a
 * telnet command or an over-long line under way goes on. */
void
lines_clear(struct lines *l)
{
	sbuf_free(&l->buf);
	l->partial = 0;
}
