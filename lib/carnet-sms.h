/*
 * carnet-sms.h - SMS groundwork: GSM 03.38 / UCS-2 encoding, segments,
 * transliteration and previews; templates; the blacklist; quotas.
 * Included by carnet.h; not to be included on its own.
 */
#ifndef CARNET_SMS_H
#define CARNET_SMS_H

/* ---------------------------------------------------------------------
 * Encoding and segments (lib/gsm.c)
 */

enum cn_sms_encoding {
	CN_SMS_GSM7 = 0,	/* GSM 03.38 default alphabet + extension */
	CN_SMS_UCS2,		/* UTF-16, characters outside the BMP cost 2 */
};

/* What the sender adds to a text, and whether to transliterate. */
struct cn_sms_opts {
	int transliterate;	/* opt-in: ê→e ... when it makes it GSM-7 */
	const char *sender;	/* alphanumeric sender name, or NULL */
	const char *stop_mention;	/* e.g. "STOP au 36180"; appended when a
					   sender name is set; NULL for none */
	int stop_newline;	/* separator: 1 newline, 0 a space */
};

/* One change made by transliteration: "ê" became "e" at character pos. */
struct cn_sms_change {
	size_t pos;		/* index in characters of the original text */
	char from[8];		/* UTF-8 of the original character */
	char to[8];		/* its replacement (may be empty) */
};

struct cn_sms_preview {
	char *text;		/* the text actually sent (UTF-8, malloc'ed) */
	size_t text_len;
	enum cn_sms_encoding encoding;
	size_t chars;		/* Unicode characters in text */
	size_t units;		/* septets (GSM-7) or UTF-16 units (UCS-2) */
	size_t segments;	/* 1 if units <= 160/70, else ceil over 153/67
				   with no escape pair or surrogate pair split */
	size_t capacity;	/* units the segments can hold in total */
	size_t remaining;	/* units left in the last segment */
	size_t next_cost;	/* units a next basic character would cost and
				   whether it opens a segment: segments after
				   one more 'a' */
	size_t next_segments;
	struct cn_sms_change *changes;	/* transliterations (malloc'ed) */
	size_t nchanges;
	int transliterated;	/* 1 if the changes were applied */
};

/*
 * Computes what text (UTF-8, len bytes) becomes when sent: appends the
 * STOP mention when o->sender is set, transliterates when asked and only
 * if that brings the whole text into GSM-7, then picks the encoding and
 * counts units and segments.  Never changes a character otherwise.
 * Returns 0 and fills p (free with cn_sms_preview_free), or -1 with err
 * (CN_EDATA: invalid UTF-8, a NUL byte, a sender name longer than 11
 * characters or not alphanumeric).
 */
int cn_sms_preview(const char *text, size_t len, const struct cn_sms_opts *o,
		   struct cn_sms_preview *p, struct cn_err *err);
void cn_sms_preview_free(struct cn_sms_preview *p);
/* "gsm7" or "ucs2". */
const char *cn_sms_encoding_name(enum cn_sms_encoding e);
/* Returns 1 if the Unicode code point is in the GSM 03.38 basic table,
 * 2 if in its extension table (costs two septets), 0 otherwise. */
int cn_gsm7_cost(uint32_t cp);
/* Checks a sender name: 1 to 11 characters, ASCII letters, digits and
 * spaces, at least one letter; or a phone number.  Returns 0 or -1. */
int cn_sms_sender_check(const char *sender, struct cn_err *err);

/*
 * Notes on struct cn_sms_preview (lib/gsm.c says more):
 *  - an empty text is one segment;
 *  - remaining is what is left in the last segment; when an escape pair
 *    or a surrogate pair moved to the next part, capacity - units is
 *    larger than remaining by the units left unused at the end of the
 *    earlier parts;
 *  - next_cost is 1 (one basic character costs one septet or one UTF-16
 *    unit); next_segments is the segment count after one more basic
 *    character, e.g. 2 for a text of exactly 160 septets;
 *  - transliteration also covers the STOP mention; changes[].pos counts
 *    characters of the text with its mention, before any change.
 */

/*
 * Splits text (UTF-8, len bytes: the text of a preview) into the parts it
 * is sent as in encoding enc, packing as cn_sms_preview() counts: one part
 * if it fits a single SMS (160 septets / 70 units), else parts of 153 / 67
 * in which no escape pair or surrogate pair is split.  Writes the byte
 * offset where each part starts to starts[0 .. min(*nparts, max)) (starts
 * may be NULL when max is 0) and the number of parts to *nparts.  Returns
 * 0, or -1 with err (CN_EDATA: invalid UTF-8, a NUL byte, or a character
 * with no GSM-7 form when enc is CN_SMS_GSM7).
 */
int cn_sms_split(const char *text, size_t len, enum cn_sms_encoding enc,
		 size_t *starts, size_t max, size_t *nparts,
		 struct cn_err *err);

#endif
