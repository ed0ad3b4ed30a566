/*
 * sms.h - checks of a preview (lib/gsm.c) shared by the GSM and template
 * targets: counts recomputed here from the text, and cn_sms_split()
 * cutting it into as many parts as the preview counts, none too long.
 */
#ifndef FUZZ_SMS_H
#define FUZZ_SMS_H

#include <string.h>

#include "carnet.h"
#include "fuzz.h"

/* Decodes the code point at s[*i] (valid UTF-8) and advances *i. */
static uint32_t
fuzz_utf8(const unsigned char *s, size_t *i)
{
	uint32_t c = s[(*i)++];
	int more = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;

	if (more)
		c &= 0x3f >> more;
	while (more--)
		c = c << 6 | (s[(*i)++] & 0x3fu);
	return c;
}

static size_t
fuzz_cost(uint32_t cp, enum cn_sms_encoding enc)
{
	if (enc == CN_SMS_GSM7)
		return (size_t)cn_gsm7_cost(cp);
	return cp >= 0x10000 ? 2 : 1;
}

/* The units of text[from..to) in enc; aborts on a character with no
 * form in enc. */
static size_t
fuzz_units(const char *text, size_t from, size_t to, enum cn_sms_encoding enc,
	   size_t *chars)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t units = 0, i = from;

	while (i < to) {
		size_t at = i, c = fuzz_cost(fuzz_utf8(s, &i), enc);

		fuzz_assert(c > 0, "byte %zu has no %s form", at,
			    cn_sms_encoding_name(enc));
		units += c;
		if (chars)
			(*chars)++;
	}
	fuzz_assert(i == to, "a part boundary inside a character at %zu", to);
	return units;
}

static void
fuzz_check_preview(const struct cn_sms_preview *p)
{
	enum cn_sms_encoding enc = p->encoding;
	size_t single = enc == CN_SMS_GSM7 ? 160 : 70;
	size_t part = enc == CN_SMS_GSM7 ? 153 : 67;
	size_t chars = 0, units, starts[64], n = 0, max = 64;
	struct cn_err err;

	fuzz_assert(p->text && p->text[p->text_len] == '\0' &&
		    strlen(p->text) == p->text_len, "preview text broken");
	fuzz_assert(!p->transliterated || enc == CN_SMS_GSM7,
		    "transliterated but not GSM-7");
	units = fuzz_units(p->text, 0, p->text_len, enc, &chars);
	fuzz_assert(units == p->units, "units %zu, counted %zu", p->units,
		    units);
	fuzz_assert(chars == p->chars, "chars %zu, counted %zu", p->chars,
		    chars);
	fuzz_assert(p->segments >= 1, "no segment");
	fuzz_assert(p->capacity >= p->units && p->remaining <= p->capacity,
		    "capacity %zu remaining %zu units %zu", p->capacity,
		    p->remaining, p->units);
	fuzz_assert(p->next_segments >= p->segments, "next_segments %zu < %zu",
		    p->next_segments, p->segments);
	if (p->units <= single)
		fuzz_assert(p->segments == 1, "%zu units in %zu segments",
			    p->units, p->segments);
	else
		fuzz_assert(p->segments >= (p->units + part - 1) / part,
			    "%zu units in only %zu segments", p->units,
			    p->segments);
	/* an all-ASCII GSM-7 text never needed UCS-2 */
	if (enc == CN_SMS_UCS2) {
		size_t i = 0;
		int need = 0;

		while (i < p->text_len && !need)
			need = cn_gsm7_cost(fuzz_utf8(
				(const unsigned char *)p->text, &i)) == 0;
		fuzz_assert(need, "UCS-2 for a text GSM-7 can hold");
	}

	if (cn_sms_split(p->text, p->text_len, enc, starts, max, &n, &err) < 0)
		fuzz_fail("split refused a preview's text: %s", err.msg);
	fuzz_assert(n == p->segments, "split in %zu parts, preview says %zu",
		    n, p->segments);
	fuzz_assert(starts[0] == 0, "the first part starts at %zu", starts[0]);
	for (size_t k = 0; k < n && k < max; k++) {
		size_t end = k + 1 < n && k + 1 < max ? starts[k + 1]
						      : p->text_len;
		size_t u;

		if (k + 1 < n && k + 1 >= max)
			break;	/* the rest was not written */
		fuzz_assert(end > starts[k] || p->text_len == 0,
			    "part %zu is empty", k);
		u = fuzz_units(p->text, starts[k], end, enc, NULL);
		fuzz_assert(u <= (n == 1 ? single : part),
			    "part %zu of %zu holds %zu units", k, n, u);
	}
}

#endif
