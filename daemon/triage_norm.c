/* SPDX-License-Identifier: MIT */
/*
 * triage_norm.c: the triage family's text normaliser (triage_p.h): lower
 * case, Latin accents stripped, Cyrillic lower-cased, typographic quotes
 * and dashes made ASCII, white space collapsed, quoted reply lines dropped,
 * so that lexicon phrases are written once in folded form.
 */
#include <stdint.h>
#include <stdlib.h>

#include "triage_p.h"
#include "util.h"

/* ---- normalisation ---------------------------------------------------- */

/* Latin letters to lower-case ASCII (NFD base letter; generated with
 * Python's unicodedata; "" = not folded). U+00C0..U+024F and U+1E00..U+1EFF. */
static const char *const fold_latin[0x24f - 0xc0 + 1] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "",
	"o", "u", "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a",
	"a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u",
	"u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c",
	"c", "c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e",
	"e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
	"g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i",
	"i", "i", "i", "i", "i", "i", "ij", "ij", "j", "j", "k", "k",
	"k", "l", "l", "l", "l", "l", "l", "", "", "l", "l", "n",
	"n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
	"o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s",
	"s", "s", "s", "s", "s", "s", "t", "t", "t", "t", "t", "t",
	"u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u",
	"w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
	"b", "", "", "b", "", "", "", "", "c", "", "", "",
	"", "", "", "", "", "", "f", "", "", "", "", "",
	"", "k", "", "", "", "", "", "", "o", "o", "", "",
	"", "p", "", "", "", "", "", "", "", "", "", "u",
	"u", "", "", "", "y", "", "z", "", "", "", "", "",
	"", "", "", "", "", "", "", "", "dz", "dz", "dz", "lj",
	"lj", "lj", "nj", "nj", "nj", "a", "a", "i", "i", "o", "o", "u",
	"u", "u", "u", "u", "u", "u", "u", "u", "u", "", "a", "a",
	"a", "a", "", "", "g", "g", "g", "g", "k", "k", "o", "o",
	"o", "o", "", "", "j", "dz", "dz", "dz", "g", "g", "", "",
	"n", "n", "a", "a", "", "", "", "", "a", "a", "a", "a",
	"e", "e", "e", "e", "i", "i", "i", "i", "o", "o", "o", "o",
	"r", "r", "r", "r", "u", "u", "u", "u", "s", "s", "t", "t",
	"", "", "h", "h", "", "", "", "", "", "", "a", "a",
	"e", "e", "o", "o", "o", "o", "o", "o", "o", "o", "y", "y",
	"", "", "", "", "", "", "", "", "", "", "", "",
	"", "", "", "", "", "", "", "", "", "", "", "",
	"", "", "", "",
};
static const char *const fold_latin_ext_add[0x1eff - 0x1e00 + 1] = {
	"a", "a", "b", "b", "b", "b", "b", "b", "c", "c", "d", "d",
	"d", "d", "d", "d", "d", "d", "d", "d", "e", "e", "e", "e",
	"e", "e", "e", "e", "e", "e", "f", "f", "g", "g", "h", "h",
	"h", "h", "h", "h", "h", "h", "h", "h", "i", "i", "i", "i",
	"k", "k", "k", "k", "k", "k", "l", "l", "l", "l", "l", "l",
	"l", "l", "m", "m", "m", "m", "m", "m", "n", "n", "n", "n",
	"n", "n", "n", "n", "o", "o", "o", "o", "o", "o", "o", "o",
	"p", "p", "p", "p", "r", "r", "r", "r", "r", "r", "r", "r",
	"s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "t", "t",
	"t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u",
	"u", "u", "u", "u", "v", "v", "v", "v", "w", "w", "w", "w",
	"w", "w", "w", "w", "w", "w", "x", "x", "x", "x", "y", "y",
	"z", "z", "z", "z", "z", "z", "h", "t", "w", "y", "", "",
	"", "", "", "", "a", "a", "a", "a", "a", "a", "a", "a",
	"a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a",
	"a", "a", "a", "a", "e", "e", "e", "e", "e", "e", "e", "e",
	"e", "e", "e", "e", "e", "e", "e", "e", "i", "i", "i", "i",
	"o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o",
	"o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o",
	"u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u",
	"u", "u", "y", "y", "y", "y", "y", "y", "y", "y", "", "",
	"", "", "", "",
};

int
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return -1;
	if ((size_t)n > len)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return n;
}

/*
 * The normaliser's output: never longer than its input plus one byte
 * (every fold maps a character to at most as many bytes), so it is
 * allocated once and written without checks.
 */
struct out {
	char	*p;
	size_t	 n;
};

static void
out_cp(struct out *o, uint32_t c)
{
	if (c < 0x80) {
		o->p[o->n++] = (char)c;
	} else if (c < 0x800) {
		o->p[o->n++] = (char)(0xc0 | (c >> 6));
		o->p[o->n++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		o->p[o->n++] = (char)(0xe0 | (c >> 12));
		o->p[o->n++] = (char)(0x80 | ((c >> 6) & 0x3f));
		o->p[o->n++] = (char)(0x80 | (c & 0x3f));
	} else {
		o->p[o->n++] = (char)(0xf0 | (c >> 18));
		o->p[o->n++] = (char)(0x80 | ((c >> 12) & 0x3f));
		o->p[o->n++] = (char)(0x80 | ((c >> 6) & 0x3f));
		o->p[o->n++] = (char)(0x80 | (c & 0x3f));
	}
}

static int
is_space_cp(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v' || c == 0xa0 || c == 0x2028 || c == 0x2029 ||
	    (c >= 0x2000 && c <= 0x200b) || c == 0x3000 || c == 0xfeff;
}

/* Folded form of code point c appended to b (a lower-case ASCII string for
 * Latin letters). */
static void
fold_cp(struct out *b, uint32_t c)
{
	const char *f = NULL;

	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (c < 0x80) {
		b->p[b->n++] = (char)c;
		return;
	}
	if (c >= 0xc0 && c <= 0x24f)
		f = fold_latin[c - 0xc0];
	else if (c >= 0x1e00 && c <= 0x1eff)
		f = fold_latin_ext_add[c - 0x1e00];
	if (f != NULL && *f != '\0') {
		while (*f != '\0')
			b->p[b->n++] = *f++;
		return;
	}
	switch (c) {
	case 0x2018: case 0x2019: case 0x201b: case 0x2032: case 0x02bc:
		b->p[b->n++] = '\'';
		return;
	case 0x201c: case 0x201d: case 0x201e: case 0x00ab: case 0x00bb:
		b->p[b->n++] = '"';
		return;
	case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
	case 0x2212:
		b->p[b->n++] = '-';
		return;
	case 0x0401:
		c = 0x0435;	/* Ё -> е */
		break;
	case 0x0451:
		c = 0x0435;
		break;
	default:
		if (c >= 0x0410 && c <= 0x042f)
			c += 0x20;
		else if (c >= 0x0400 && c <= 0x040f)
			c += 0x50;
		else if (c >= 0xff21 && c <= 0xff3a)	/* fullwidth A-Z */
			c = c - 0xff21 + 'a';
		else if (c >= 0xff41 && c <= 0xff5a)
			c = c - 0xff41 + 'a';
		else if (c >= 0xff10 && c <= 0xff19)
			c = c - 0xff10 + '0';
		break;
	}
	if (c < 0x80)
		b->p[b->n++] = (char)c;
	else
		out_cp(b, c);
}

/*
 * Normalise at most max input bytes of s into valid UTF-8: folded, white
 * space collapsed to one space, lines starting with '>' (quoted replies)
 * dropped when drop_quoted.  Invalid bytes become spaces.
 */
void
normalise(struct buf *b, const char *s, size_t len, size_t max, int drop_quoted)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int at_bol = 1, space = 1;
	uint32_t c;
	int n;
	struct out o;

	if (len > max)
		len = max;
	o.p = xmalloc(len + 8);
	o.n = 0;
	while (i < len) {
		/* fast path: a run of plain ASCII letters, digits or
		 * punctuation */
		if (!at_bol && p[i] > 0x20 && p[i] < 0x7f) {
			/* (locals: stores through o.p could alias o.n) */
			char *w = o.p + o.n;
			size_t k = i;

			do {
				*w++ = (char)(p[k] >= 'A' && p[k] <= 'Z' ?
				    p[k] + ('a' - 'A') : p[k]);
				k++;
			} while (k < len && p[k] > 0x20 && p[k] < 0x7f);
			o.n += k - i;
			i = k;
			space = 0;
			continue;
		}
		/* and a blank within a line (what the slow path does) */
		if (!at_bol && (p[i] == ' ' || p[i] == '\t')) {
			if (!space)
				o.p[o.n++] = ' ';
			space = 1;
			i++;
			continue;
		}
		if (at_bol && drop_quoted) {
			size_t j = i;

			while (j < len && (p[j] == ' ' || p[j] == '\t'))
				j++;
			if (j < len && p[j] == '>') {
				while (j < len && p[j] != '\n')
					j++;
				i = j;
				continue;
			}
		}
		at_bol = 0;
		n = utf8_decode(p + i, len - i, &c);
		if (n < 0) {
			c = ' ';
			n = 1;
		}
		i += (size_t)n;
		if (c == '\n')
			at_bol = 1;
		if (c == 0 || is_space_cp(c) || (c < 0x20) ||
		    (c >= 0x7f && c < 0xa0) || c == 0xad || c == 0x200d ||
		    c == 0xfffd) {
			if (c == 0xad || c == 0x200d)
				continue;	/* soft hyphen, ZWJ: invisible */
			if (!space)
				o.p[o.n++] = ' ';
			space = 1;
			continue;
		}
		fold_cp(&o, c);
		space = 0;
	}
	while (o.n > 0 && o.p[o.n - 1] == ' ')
		o.n--;
	o.p[o.n] = '\0';
	/* hand the bytes to the (empty) buffer */
	buf_free(b);
	b->data = o.p;
	b->len = o.n;
	b->cap = len + 8;
	b->max = 0;
}

