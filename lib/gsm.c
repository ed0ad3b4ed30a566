/*
 * gsm.c - SMS encoding and segments: the GSM 03.38 default alphabet and
 * its extension table (3GPP TS 23.038, 6.2.1 and 6.2.1.1), UCS-2 as
 * UTF-16 units, splitting into concatenated parts, the opt-in
 * transliteration table, the STOP mention and sender name checks, and the
 * preview that says what a text costs before it is sent.
 *
 * carnet never changes a character the user did not ask to change: a text
 * with one character outside GSM-7 goes out as UCS-2 unless the caller
 * asked for transliteration, and transliteration is applied only when it
 * brings the whole text into GSM-7.
 */
#include <stdlib.h>
#include <string.h>

#include "carnet.h"

#define GSM7_SINGLE 160	/* septets in a single SMS */
#define GSM7_PART 153	/* septets per part (7 go to the UDH) */
#define UCS2_SINGLE 70	/* UTF-16 units in a single SMS */
#define UCS2_PART 67	/* units per part (3 go to the UDH) */

#define SENDER_MAX 11	/* characters in an alphanumeric sender name */
#define NUMBER_MIN 3	/* digits after '+' in a numeric sender */
#define NUMBER_MAX 15	/* E.164 */

/* ---------------------------------------------------------------- table */

/*
 * Cost in septets of each ASCII code point: 1 in the basic table, 2 in the
 * extension table (ESC + one septet), 0 if GSM-7 cannot carry it.  In the
 * basic table, '@' is 0x00, '$' 0x02, LF 0x0A, CR 0x0D, '_' 0x11; the
 * other printable ASCII sit at their own code, except those replaced by
 * national letters: '[' '\' ']' '^' '{' '|' '}' '~' are in the extension
 * table (with form feed), and '`' is nowhere.  U+001B is the escape to
 * the extension table, not a character one can send.
 */
static const unsigned char ascii_cost[128] = {
	/* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1, 0, 0,
	/* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x20 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1,
	/* 0x60 */ 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0,
};

/*
 * Returns 1 if the Unicode code point cp is in the GSM 03.38 basic table,
 * 2 if it is in the extension table (it costs two septets), 0 otherwise.
 * The non-ASCII members, with their septet:
 *
 *   basic	£ 01  ¥ 03  è 04  é 05  ù 06  ì 07  ò 08  Ç 09 (capital only)
 *		Ø 0B  ø 0C  Å 0E  å 0F  Δ 10  Φ 12  Γ 13  Λ 14  Ω 15  Π 16
 *		Ψ 17  Σ 18  Θ 19  Ξ 1A  Æ 1C  æ 1D  ß 1E  É 1F  ¤ 24  ¡ 40
 *		Ä 5B  Ö 5C  Ñ 5D  Ü 5E  § 5F  ¿ 60  ä 7B  ö 7C  ñ 7D  ü 7E
 *		à 7F
 *   extension	€ 1B 65
 *
 * Not in GSM-7, among others: ç ê ë â î ï ô û À È Ê Ë Î Ï Ô Û œ Œ.
 */
int
cn_gsm7_cost(uint32_t cp)
{
	if (cp < 0x80)
		return ascii_cost[cp];
	switch (cp) {
	case 0x00A1:	/* ¡ */
	case 0x00A3:	/* £ */
	case 0x00A4:	/* ¤ */
	case 0x00A5:	/* ¥ */
	case 0x00A7:	/* § */
	case 0x00BF:	/* ¿ */
	case 0x00C4:	/* Ä */
	case 0x00C5:	/* Å */
	case 0x00C6:	/* Æ */
	case 0x00C7:	/* Ç */
	case 0x00C9:	/* É */
	case 0x00D1:	/* Ñ */
	case 0x00D6:	/* Ö */
	case 0x00D8:	/* Ø */
	case 0x00DC:	/* Ü */
	case 0x00DF:	/* ß */
	case 0x00E0:	/* à */
	case 0x00E4:	/* ä */
	case 0x00E5:	/* å */
	case 0x00E6:	/* æ */
	case 0x00E8:	/* è */
	case 0x00E9:	/* é */
	case 0x00EC:	/* ì */
	case 0x00F1:	/* ñ */
	case 0x00F2:	/* ò */
	case 0x00F6:	/* ö */
	case 0x00F8:	/* ø */
	case 0x00F9:	/* ù */
	case 0x00FC:	/* ü */
	case 0x0393:	/* Γ */
	case 0x0394:	/* Δ */
	case 0x0398:	/* Θ */
	case 0x039B:	/* Λ */
	case 0x039E:	/* Ξ */
	case 0x03A0:	/* Π */
	case 0x03A3:	/* Σ */
	case 0x03A6:	/* Φ */
	case 0x03A8:	/* Ψ */
	case 0x03A9:	/* Ω */
		return 1;
	case 0x20AC:	/* € */
		return 2;
	default:
		return 0;
	}
}

/*
 * The transliteration table, applied on request only, and only when every
 * character of the text is then in GSM-7.  It maps characters that are
 * NOT in GSM-7; characters that are (é è à ù ì ò É Ç Ä Ö Ñ Ü ä ö ñ ü ß
 * æ Æ ...) are never touched.  Sorted by code point.
 *
 *   ` ´ ʼ ‘ ’ ‚ ‛ ‹ ›	→ '		“ ” „ ‟ « »	→ "
 *   ‐ ‑ ‒ – — ― −	→ -		…		→ ...
 *   U+00A0 no-break space, U+2002 to U+200A (en, em, thin, hair ...
 *   spaces), U+202F narrow no-break space	→ space
 *   À Á Â Ã → A	È Ê Ë → E	Ì Í Î Ï → I	Ò Ó Ô Õ → O
 *   Ù Ú Û → U		Ý Ÿ → Y		Œ → OE
 *   á â ã → a		ç → c		ê ë → e		í î ï → i
 *   ó ô õ → o		ú û → u		ý ÿ → y		œ → oe
 */
static const struct translit {
	uint32_t cp;
	const char *to;
} translit_table[] = {
	{0x0060, "'"},	/* ` grave accent (backtick) */
	{0x00A0, " "},	/* no-break space */
	{0x00AB, "\""},	/* « */
	{0x00B4, "'"},	/* ´ acute accent */
	{0x00BB, "\""},	/* » */
	{0x00C0, "A"},	/* À */
	{0x00C1, "A"},	/* Á */
	{0x00C2, "A"},	/* Â */
	{0x00C3, "A"},	/* Ã */
	{0x00C8, "E"},	/* È */
	{0x00CA, "E"},	/* Ê */
	{0x00CB, "E"},	/* Ë */
	{0x00CC, "I"},	/* Ì */
	{0x00CD, "I"},	/* Í */
	{0x00CE, "I"},	/* Î */
	{0x00CF, "I"},	/* Ï */
	{0x00D2, "O"},	/* Ò */
	{0x00D3, "O"},	/* Ó */
	{0x00D4, "O"},	/* Ô */
	{0x00D5, "O"},	/* Õ */
	{0x00D9, "U"},	/* Ù */
	{0x00DA, "U"},	/* Ú */
	{0x00DB, "U"},	/* Û */
	{0x00DD, "Y"},	/* Ý */
	{0x00E1, "a"},	/* á */
	{0x00E2, "a"},	/* â */
	{0x00E3, "a"},	/* ã */
	{0x00E7, "c"},	/* ç */
	{0x00EA, "e"},	/* ê */
	{0x00EB, "e"},	/* ë */
	{0x00ED, "i"},	/* í */
	{0x00EE, "i"},	/* î */
	{0x00EF, "i"},	/* ï */
	{0x00F3, "o"},	/* ó */
	{0x00F4, "o"},	/* ô */
	{0x00F5, "o"},	/* õ */
	{0x00FA, "u"},	/* ú */
	{0x00FB, "u"},	/* û */
	{0x00FD, "y"},	/* ý */
	{0x00FF, "y"},	/* ÿ */
	{0x0152, "OE"},	/* Œ */
	{0x0153, "oe"},	/* œ */
	{0x0178, "Y"},	/* Ÿ */
	{0x02BC, "'"},	/* ʼ modifier letter apostrophe */
	{0x2002, " "},	/* en space */
	{0x2003, " "},	/* em space */
	{0x2004, " "},	/* three-per-em space */
	{0x2005, " "},	/* four-per-em space */
	{0x2006, " "},	/* six-per-em space */
	{0x2007, " "},	/* figure space */
	{0x2008, " "},	/* punctuation space */
	{0x2009, " "},	/* thin space */
	{0x200A, " "},	/* hair space */
	{0x2010, "-"},	/* hyphen */
	{0x2011, "-"},	/* non-breaking hyphen */
	{0x2012, "-"},	/* figure dash */
	{0x2013, "-"},	/* – en dash */
	{0x2014, "-"},	/* — em dash */
	{0x2015, "-"},	/* ― horizontal bar */
	{0x2018, "'"},	/* ‘ */
	{0x2019, "'"},	/* ’ */
	{0x201A, "'"},	/* ‚ */
	{0x201B, "'"},	/* ‛ */
	{0x201C, "\""},	/* “ */
	{0x201D, "\""},	/* ” */
	{0x201E, "\""},	/* „ */
	{0x201F, "\""},	/* ‟ */
	{0x2026, "..."},	/* … */
	{0x202F, " "},	/* narrow no-break space */
	{0x2039, "'"},	/* ‹ */
	{0x203A, "'"},	/* › */
	{0x2212, "-"},	/* − minus sign */
};

#define NTRANSLIT (sizeof(translit_table) / sizeof(translit_table[0]))

/* Returns the replacement of cp (GSM-7 basic characters only), or NULL. */
static const char *
translit(uint32_t cp)
{
	size_t lo = 0, hi = NTRANSLIT;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < translit_table[mid].cp)
			hi = mid;
		else if (cp > translit_table[mid].cp)
			lo = mid + 1;
		else
			return translit_table[mid].to;
	}
	return NULL;
}

/* ---------------------------------------------------------------- utf-8 */

/*
 * Decodes the code point at s[*i] and advances *i past it.  The text must
 * have passed cn_utf8_valid().
 */
static uint32_t
utf8_next(const unsigned char *s, size_t *i)
{
	uint32_t c = s[*i];

	if (c < 0x80) {
		*i += 1;
		return c;
	}
	if (c < 0xe0) {
		c = (c & 0x1f) << 6 | (s[*i + 1] & 0x3fu);
		*i += 2;
		return c;
	}
	if (c < 0xf0) {
		c = (c & 0x0f) << 12 | (s[*i + 1] & 0x3fu) << 6 |
		    (s[*i + 2] & 0x3fu);
		*i += 3;
		return c;
	}
	c = (c & 0x07) << 18 | (s[*i + 1] & 0x3fu) << 12 |
	    (s[*i + 2] & 0x3fu) << 6 | (s[*i + 3] & 0x3fu);
	*i += 4;
	return c;
}

/* ---------------------------------------------------------------- packing */

struct pack {
	size_t chars;	/* code points */
	size_t units;	/* septets or UTF-16 units */
	size_t parts;	/* parts of a concatenated message */
	size_t fill;	/* units in its last part */
};

/*
 * Packs text (valid UTF-8) into the parts of a concatenated message of
 * encoding enc: a character goes to the next part when it does not fit
 * whole in the current one, so that an escape pair (GSM-7) or a surrogate
 * pair (UCS-2) is never split.  The result is the concatenated layout
 * even when the text would fit a single SMS; callers decide.  When starts
 * is not NULL, the byte offset where each part begins is written to
 * starts[0..max).  Returns 0, or -1 if enc is GSM-7 and a character has
 * no GSM-7 form (*bad is then its byte offset).
 */
static int
pack(const char *text, size_t len, enum cn_sms_encoding enc, size_t *starts,
     size_t max, struct pack *pk, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t part = enc == CN_SMS_GSM7 ? GSM7_PART : UCS2_PART;
	size_t i = 0;

	pk->chars = pk->units = pk->fill = 0;
	pk->parts = 1;
	if (starts && max)
		starts[0] = 0;
	while (i < len) {
		size_t at = i, c;
		uint32_t cp;

		if (s[i] < 0x80) {
			cp = s[i++];
			c = enc == CN_SMS_GSM7 ? ascii_cost[cp] : 1;
		} else {
			cp = utf8_next(s, &i);
			if (enc == CN_SMS_GSM7)
				c = (size_t)cn_gsm7_cost(cp);
			else
				c = cp >= 0x10000 ? 2 : 1;
		}
		if (c == 0) {
			if (bad)
				*bad = at;
			return -1;
		}
		pk->chars++;
		pk->units += c;
		if (pk->fill + c > part) {
			if (starts && pk->parts < max)
				starts[pk->parts] = at;
			pk->parts++;
			pk->fill = c;
		} else {
			pk->fill += c;
		}
	}
	return 0;
}

/* Fills the counting fields of p from a packing of its text. */
static void
preview_count(struct cn_sms_preview *p, const struct pack *pk)
{
	int gsm = p->encoding == CN_SMS_GSM7;
	size_t single = gsm ? GSM7_SINGLE : UCS2_SINGLE;
	size_t part = gsm ? GSM7_PART : UCS2_PART;

	p->chars = pk->chars;
	p->units = pk->units;
	if (pk->units <= single) {
		p->segments = 1;
		p->capacity = single;
		p->remaining = single - pk->units;
	} else {
		p->segments = pk->parts;
		p->capacity = pk->parts * part;
		p->remaining = part - pk->fill;
	}
	/* one more basic character ('a') costs one unit in both encodings;
	 * past a single SMS, it opens a part when the last one is full */
	p->next_cost = 1;
	if (pk->units + 1 <= single)
		p->next_segments = 1;
	else
		p->next_segments = pk->parts + (pk->fill + 1 > part ? 1 : 0);
}

/* ---------------------------------------------------------------- sender */

/* Writes s into q (cap bytes) for an error message: printable ASCII as
 * is, other bytes as \xNN, cut with "..." when too long. */
static void
quote(char *q, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t j = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (j + 8 > cap) {
			memcpy(q + j, "...", 3);
			j += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			q[j++] = (char)c;
		} else {
			q[j++] = '\\';
			q[j++] = 'x';
			q[j++] = hex[c >> 4];
			q[j++] = hex[c & 15];
		}
	}
	q[j] = '\0';
}

/*
 * Checks a sender: either a name of 1 to 11 characters, ASCII letters,
 * digits and spaces, with at least one letter and no space at either end
 * ("ACME", "Agence 42"), or a number: '+' and 3 to 15 digits
 * ("+33612345678").  Returns 0, or -1 with err (CN_EDATA,
 * "invalid sender name 'ACME!': ...").
 */
int
cn_sms_sender_check(const char *sender, struct cn_err *err)
{
	char q[64];
	size_t n, i, letters = 0;

	if (!sender)
		return cn_err_set(err, CN_EDATA, "no sender name");
	n = strlen(sender);
	quote(q, sizeof(q), sender);
	if (n == 0)
		return cn_err_set(err, CN_EDATA,
				  "invalid sender name '': empty");
	if (sender[0] == '+') {
		for (i = 1; i < n; i++)
			if (sender[i] < '0' || sender[i] > '9')
				return cn_err_set(err, CN_EDATA,
						  "invalid sender number '%s': "
						  "only digits may follow '+'",
						  q);
		if (n - 1 < NUMBER_MIN || n - 1 > NUMBER_MAX)
			return cn_err_set(err, CN_EDATA,
					  "invalid sender number '%s': "
					  "%d to %d digits after '+'",
					  q, NUMBER_MIN, NUMBER_MAX);
		return 0;
	}
	for (i = 0; i < n; i++) {
		char c = sender[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
			letters++;
		else if (!(c >= '0' && c <= '9') && c != ' ')
			return cn_err_set(err, CN_EDATA,
					  "invalid sender name '%s': only "
					  "ASCII letters, digits and spaces",
					  q);
	}
	if (!letters)
		return cn_err_set(err, CN_EDATA,
				  "invalid sender name '%s': no letter "
				  "(a number is written +digits)",
				  q);
	if (n > SENDER_MAX)
		return cn_err_set(err, CN_EDATA,
				  "invalid sender name '%s': longer than %d "
				  "characters",
				  q, SENDER_MAX);
	if (sender[0] == ' ' || sender[n - 1] == ' ')
		return cn_err_set(err, CN_EDATA,
				  "invalid sender name '%s': starts or ends "
				  "with a space",
				  q);
	return 0;
}

/* ---------------------------------------------------------------- preview */

/* Returns "gsm7" or "ucs2", the names the tools print. */
const char *
cn_sms_encoding_name(enum cn_sms_encoding e)
{
	return e == CN_SMS_UCS2 ? "ucs2" : "gsm7";
}

/* Frees what a preview holds and zeroes it; harmless on a zeroed one. */
void
cn_sms_preview_free(struct cn_sms_preview *p)
{
	if (!p)
		return;
	free(p->text);
	free(p->changes);
	memset(p, 0, sizeof(*p));
}

/*
 * Rewrites p->text (tlen bytes, every character of which is in GSM-7 or
 * in the transliteration table, nchanges of them in the table) into a new
 * text of newlen bytes, recording each change.  Returns 0, or -1 when out
 * of memory (p unchanged).
 */
static int
apply_translit(struct cn_sms_preview *p, size_t tlen, size_t nchanges,
	       size_t newlen)
{
	const unsigned char *s = (const unsigned char *)p->text;
	struct cn_sms_change *ch;
	char *out;
	size_t i = 0, j = 0, k = 0, pos = 0;

	out = malloc(newlen + 1);
	ch = calloc(nchanges, sizeof(*ch));
	if (!out || !ch) {
		free(out);
		free(ch);
		return -1;
	}
	while (i < tlen) {
		size_t at = i, n;
		uint32_t cp = utf8_next(s, &i);
		const char *to;

		if (cn_gsm7_cost(cp)) {
			memcpy(out + j, s + at, i - at);
			j += i - at;
		} else {
			to = translit(cp);
			n = strlen(to);
			ch[k].pos = pos;
			memcpy(ch[k].from, s + at, i - at);
			memcpy(ch[k].to, to, n + 1);
			k++;
			memcpy(out + j, to, n);
			j += n;
		}
		pos++;
	}
	out[j] = '\0';
	free(p->text);
	p->text = out;
	p->text_len = j;
	p->changes = ch;
	p->nchanges = k;
	p->transliterated = 1;
	return 0;
}

/*
 * Computes what text (UTF-8, len bytes; NULL when len is 0) becomes when
 * sent, under options o (NULL: none):
 *  - when o->sender is set it must pass cn_sms_sender_check(), and
 *    o->stop_mention, when not NULL nor empty, is appended after one
 *    space, or one newline if o->stop_newline (no separator when text is
 *    empty); the mention is part of the text sent and is counted;
 *  - with o->transliterate, the characters of the table above are
 *    replaced if, and only if, every character is then in GSM-7: the
 *    changes are listed in p->changes (pos counts characters of the text
 *    with its STOP mention, before any change) and p->transliterated is
 *    1; otherwise the text is left as it is, nchanges 0;
 *  - the encoding is GSM-7 when every character has a GSM-7 form, else
 *    UCS-2; nothing else is ever changed.
 * Counts: units are septets (an extension character costs 2) or UTF-16
 * units (a character outside the BMP costs 2).  One SMS holds 160 septets
 * or 70 units; past that, parts hold 153 or 67 and a character that does
 * not fit whole in a part starts the next one, so segments may exceed
 * ceil(units / 153).  capacity is 160/70 for one SMS, else segments times
 * 153/67; remaining is what is left in the last part (capacity - units
 * may be larger when a pair moved to the next part); next_cost is 1 and
 * next_segments the segments after one more basic character.  An empty
 * text is one segment.
 * Returns 0 and fills p (free with cn_sms_preview_free()), or -1 with err
 * and p zeroed: CN_EDATA for invalid UTF-8 or a NUL byte ("invalid UTF-8
 * at byte N", N counted from 0 in text) or a bad sender, CN_EINTERNAL
 * when out of memory.
 */
int
cn_sms_preview(const char *text, size_t len, const struct cn_sms_opts *o,
	       struct cn_sms_preview *p, struct cn_err *err)
{
	const unsigned char *s;
	const char *mention = NULL;
	size_t mlen = 0, seplen = 0, tlen, i, bad = 0;
	size_t nongsm = 0, untranslatable = 0, newlen;
	struct pack pk;

	memset(p, 0, sizeof(*p));
	if (!text) {
		if (len)
			return cn_err_set(err, CN_EINTERNAL,
					  "sms preview: no text");
		text = "";
	}
	if (!cn_utf8_valid(text, len, &bad))
		return cn_err_set(err, CN_EDATA, "invalid UTF-8 at byte %zu",
				  bad);
	if (o && o->sender) {
		if (cn_sms_sender_check(o->sender, err) < 0)
			return -1;
		if (o->stop_mention && o->stop_mention[0]) {
			mention = o->stop_mention;
			mlen = strlen(mention);
			if (!cn_utf8_valid(mention, mlen, &bad))
				return cn_err_set(err, CN_EDATA,
						  "invalid UTF-8 in the STOP "
						  "mention at byte %zu",
						  bad);
			seplen = len ? 1 : 0;
		}
	}
	if (len > (size_t)-1 / 2 || mlen > (size_t)-1 / 2)
		return cn_err_set(err, CN_EDATA, "sms text too long");
	tlen = len + seplen + mlen;
	p->text = malloc(tlen + 1);
	if (!p->text)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	memcpy(p->text, text, len);
	if (seplen)
		p->text[len] = o->stop_newline ? '\n' : ' ';
	if (mlen)
		memcpy(p->text + len + seplen, mention, mlen);
	p->text[tlen] = '\0';
	p->text_len = tlen;

	/* classify: how many characters lack a GSM-7 form, and whether the
	 * table has them all; the length the text would have once changed */
	s = (const unsigned char *)p->text;
	newlen = tlen;
	for (i = 0; i < tlen;) {
		size_t at = i;
		uint32_t cp;
		const char *to;

		if (s[i] < 0x80 && ascii_cost[s[i]]) {
			i++;
			continue;
		}
		cp = utf8_next(s, &i);
		if (cn_gsm7_cost(cp))
			continue;
		nongsm++;
		if (!o || !o->transliterate || untranslatable)
			continue;
		to = translit(cp);
		if (!to)
			untranslatable++;
		else
			newlen = newlen - (i - at) + strlen(to);
	}

	p->encoding = CN_SMS_GSM7;
	if (nongsm && o && o->transliterate && !untranslatable) {
		if (apply_translit(p, tlen, nongsm, newlen) < 0) {
			cn_sms_preview_free(p);
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		}
	} else if (nongsm) {
		p->encoding = CN_SMS_UCS2;
	}
	if (pack(p->text, p->text_len, p->encoding, NULL, 0, &pk, NULL) < 0) {
		cn_sms_preview_free(p);
		return cn_err_set(err, CN_EINTERNAL,
				  "sms preview: character outside GSM-7");
	}
	preview_count(p, &pk);
	return 0;
}

/*
 * Splits text (UTF-8, len bytes, typically cn_sms_preview's text) into
 * the parts it is sent as in encoding enc.  See carnet-sms.h.
 */
int
cn_sms_split(const char *text, size_t len, enum cn_sms_encoding enc,
	     size_t *starts, size_t max, size_t *nparts, struct cn_err *err)
{
	struct pack pk;
	size_t bad = 0, single;

	if (!text) {
		if (len)
			return cn_err_set(err, CN_EINTERNAL,
					  "sms split: no text");
		text = "";
	}
	if (!cn_utf8_valid(text, len, &bad))
		return cn_err_set(err, CN_EDATA, "invalid UTF-8 at byte %zu",
				  bad);
	if (pack(text, len, enc, starts, max, &pk, &bad) < 0)
		return cn_err_set(err, CN_EDATA,
				  "character at byte %zu has no GSM-7 form",
				  bad);
	single = enc == CN_SMS_GSM7 ? GSM7_SINGLE : UCS2_SINGLE;
	if (pk.units <= single) {
		pk.parts = 1;
		if (starts && max)
			starts[0] = 0;
	}
	if (nparts)
		*nparts = pk.parts;
	return 0;
}
