/*
 * normalize.c - validation and normalisation of contact data: strict
 * UTF-8, email addresses, and phone numbers to E.164 under per-country
 * rules (calling code, trunk prefix, lengths of the national significant
 * number) with the French overseas departments' prefixes.
 *
 * Every import row goes through these functions, so none of them
 * allocates, uses a regex or depends on the locale (case folding is
 * ASCII only), and each reads its input once.  Only the error paths,
 * which quote the input, do more work.
 */
#include <stdlib.h>
#include <string.h>

#include "carnet.h"

/* ---------------------------------------------------------------- quoting */

#define QUOTE_MAX 60			/* input bytes shown in a message */
#define QUOTE_BUF (4 * QUOTE_MAX + 4)	/* each may become "\xNN"; "..." */

static size_t utf8_seq(const unsigned char *p, size_t n);

/*
 * Writes into q a one-line, printable rendering of the NUL-terminated s
 * for an error message: at most QUOTE_MAX bytes of s, then "..." if s is
 * longer.  Control bytes, invalid UTF-8, C1 controls and line separators
 * become "\xNN"; a quote or a backslash gets a backslash.
 */
static void
quote(char q[QUOTE_BUF], const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t i = 0, j = 0, n;

	while (p[i] && i < QUOTE_MAX) {
		unsigned c = p[i];

		if (c >= 0x20 && c < 0x7f) {
			if (c == '\'' || c == '\\')
				q[j++] = '\\';
			q[j++] = (char)c;
			i++;
			continue;
		}
		/* s is NUL-terminated and utf8_seq() stops at the first
		 * byte that is not a continuation, so 4 is a safe bound */
		if (c >= 0x80 && (n = utf8_seq(p + i, 4)) &&
		    i + n <= QUOTE_MAX && !(c == 0xc2 && p[i + 1] < 0xa0) &&
		    !(c == 0xe2 && p[i + 1] == 0x80 &&
		      (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))) {
			memcpy(q + j, p + i, n);
			i += n;
			j += n;
			continue;
		}
		q[j++] = '\\';
		q[j++] = 'x';
		q[j++] = hex[c >> 4];
		q[j++] = hex[c & 15];
		i++;
	}
	if (p[i]) {
		memcpy(q + j, "...", 3);
		j += 3;
	}
	q[j] = '\0';
}

/* ---------------------------------------------------------------- utf-8 */

/*
 * Returns the length (1 to 4) of the valid UTF-8 sequence at p, which has
 * n bytes available, or 0 if it is invalid: a NUL byte, a stray
 * continuation byte, an overlong form, a surrogate, a code point above
 * U+10FFFF, or a truncated sequence.  Bytes are read in order and reading
 * stops at the first bad one (Unicode 15, table 3-7).
 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return c ? 1 : 0;
	if (c < 0xc2)
		return 0;	/* continuation byte, or overlong C0/C1 */
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates D800-DFFF */
	} else if (c < 0xf5) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < 2 || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (i >= n || (p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/*
 * Returns 1 if s[0..len) is strict UTF-8 with no NUL byte, else 0 and,
 * if bad is not NULL, sets *bad to the offset of the first byte of the
 * first invalid sequence.  Runs of ASCII are checked eight bytes at a
 * time.
 */
int
cn_utf8_valid(const char *s, size_t len, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] && p[i] < 0x80) {
			uint64_t v;

			/* a word passes if no byte has its high bit set
			 * and none is zero */
			while (len - i >= 8) {
				memcpy(&v, p + i, 8);
				if ((v | ((v - ONES) & ~v)) & HIGHS)
					break;
				i += 8;
			}
			while (i < len && p[i] && p[i] < 0x80)
				i++;
			continue;
		}
		n = utf8_seq(p + i, len - i);
		if (!n) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += n;
	}
	return 1;
}

/* ---------------------------------------------------------------- email */

#define EMAIL_MAX 254
#define LOCAL_MAX 64

/*
 * Normalises the email address in (NUL-terminated) into out (cap bytes):
 * surrounding spaces and tabs trimmed, domain lower-cased (ASCII letters
 * only; UTF-8 domains are kept as given), local part unchanged.  The
 * address needs exactly one '@'; a local part of 1 to 64 bytes without
 * spaces, control characters or any of "(),:;<>[\]; a domain whose
 * labels are made of letters, digits, '-' (not first or last) and bytes
 * >= 0x80, with at least one dot and no empty label; 254 bytes in all;
 * and valid UTF-8.  Returns 0.  On error, returns -1, sets err
 * (CN_EDATA "invalid email 'x': <why>", or CN_EINTERNAL when out is too
 * small for a valid address) and leaves out empty (if cap > 0).  err is
 * not touched on success.
 */
int
cn_email_normalize(const char *in, char *out, size_t cap,
		   struct cn_err *err)
{
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	const char *why = NULL;
	size_t len, i, at = 0, nat = 0, label = 0, dots = 0;
	unsigned c, prev = 0;
	int hi = 0;
	char q[QUOTE_BUF];

	if (cap)
		out[0] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen((const char *)s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len) {
		why = "empty";
		goto bad;
	}
	if (len > EMAIL_MAX) {
		why = "too long";
		goto bad;
	}
	if (len >= cap) {
		quote(q, in);
		return cn_err_set(err, CN_EINTERNAL,
				  "email buffer too small for '%s'", q);
	}

	/* one pass: the first problem goes in why, but a wrong number of
	 * '@' and an empty part are reported before it */
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '@') {
			if (nat++ == 0) {
				at = i;
				out[i] = (char)c;
				continue;
			}
		}
		if (!nat) {
			if (c >= 0x80) {
				hi = 1;
			} else if (c == ' ') {
				if (!why)
					why = "space in local part";
			} else if (c < 0x20 || c == 0x7f) {
				if (!why)
					why = "control character in local part";
			} else {
				switch (c) {
				case '"': case '(': case ')': case ',':
				case ':': case ';': case '<': case '>':
				case '[': case '\\': case ']':
					if (!why)
						why = "invalid character in "
						      "local part";
				}
			}
			out[i] = (char)c;
			continue;
		}
		if (c >= 'A' && c <= 'Z') {
			c += 'a' - 'A';
			label++;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			label++;
		} else if (c >= 0x80) {
			hi = 1;
			label++;
		} else if (c == '-') {
			if (!label && !why)
				why = "domain label starts with '-'";
			label++;
		} else if (c == '.') {
			if (!label) {
				if (!why)
					why = i == at + 1
						      ? "domain starts with a dot"
						      : "domain has an empty label";
			} else if (prev == '-' && !why) {
				why = "domain label ends with '-'";
			}
			label = 0;
			dots++;
		} else if (!why) {
			why = c == ' ' || c == '\t'
				      ? "space in domain"
				      : "invalid character in domain";
		}
		prev = c;
		out[i] = (char)c;
	}
	out[len] = '\0';

	if (!nat)
		why = "no '@'";
	else if (nat > 1)
		why = "more than one '@'";
	else if (at == 0)
		why = "empty local part";
	else if (at > LOCAL_MAX)
		why = "local part too long";
	else if (at == len - 1)
		why = "empty domain";
	else if (why)
		;
	else if (!label)
		why = "domain ends with a dot";
	else if (prev == '-')
		why = "domain label ends with '-'";
	else if (!dots)
		why = "domain has no dot";
	else if (hi && !cn_utf8_valid(out, len, NULL))
		why = "not valid UTF-8";
	if (!why)
		return 0;
	out[0] = '\0';
bad:
	quote(q, in);
	return cn_err_set(err, CN_EDATA, "invalid email '%s': %s", q, why);
}

/* ---------------------------------------------------------------- phones */

/*
 * The countries carnet knows: calling code, trunk prefix (the digit
 * dialled before a national number, 0 if there is none) and the lengths
 * of the national significant number (NSN: what follows the calling code
 * in E.164).  Countries that share a calling code share its rules; the
 * first one listed answers lookups by code, through cc_index.
 */
struct country {
	char iso[3];
	unsigned short cc;	/* calling code */
	unsigned char cclen;	/* its number of digits */
	char trunk;		/* trunk prefix digit, or 0 */
	unsigned char min, max;	/* NSN lengths */
};

enum {
	FR, BE, NL, DE, ES, IT, CH, LU, GB, IE, PT, US, CA, MA, DZ, TN, SN,
	RE, YT, GP, MQ, GF, NCOUNTRIES
};

static const struct country countries[NCOUNTRIES] = {
	[FR] = {"FR", 33, 2, '0', 9, 9},
	[BE] = {"BE", 32, 2, '0', 8, 9},
	[NL] = {"NL", 31, 2, '0', 9, 9},
	[DE] = {"DE", 49, 2, '0', 6, 13},
	[ES] = {"ES", 34, 2, 0, 9, 9},
	[IT] = {"IT", 39, 2, 0, 6, 11},	/* landlines keep their 0 */
	[CH] = {"CH", 41, 2, '0', 9, 9},
	[LU] = {"LU", 352, 3, 0, 4, 11},
	[GB] = {"GB", 44, 2, '0', 9, 10},
	[IE] = {"IE", 353, 3, '0', 7, 9},
	[PT] = {"PT", 351, 3, 0, 9, 9},
	[US] = {"US", 1, 1, '1', 10, 10},
	[CA] = {"CA", 1, 1, '1', 10, 10},
	[MA] = {"MA", 212, 3, '0', 9, 9},
	[DZ] = {"DZ", 213, 3, '0', 8, 9},
	[TN] = {"TN", 216, 3, 0, 8, 8},
	[SN] = {"SN", 221, 3, 0, 9, 9},
	[RE] = {"RE", 262, 3, '0', 9, 9},
	[YT] = {"YT", 262, 3, '0', 9, 9},
	[GP] = {"GP", 590, 3, '0', 9, 9},
	[MQ] = {"MQ", 596, 3, '0', 9, 9},
	[GF] = {"GF", 594, 3, '0', 9, 9},
};

/* Calling code -> 1 + index in countries, 0 if unknown.  A code never
 * starts with 0, so its value also gives its length. */
static const unsigned char cc_index[1000] = {
	[33] = 1 + FR, [32] = 1 + BE, [31] = 1 + NL, [49] = 1 + DE,
	[34] = 1 + ES, [39] = 1 + IT, [41] = 1 + CH, [352] = 1 + LU,
	[44] = 1 + GB, [353] = 1 + IE, [351] = 1 + PT, [1] = 1 + US,
	[212] = 1 + MA, [213] = 1 + DZ, [216] = 1 + TN, [221] = 1 + SN,
	[262] = 1 + RE, [590] = 1 + GP, [596] = 1 + MQ, [594] = 1 + GF,
};

/* French overseas mobile prefixes, as dialled from France. */
static const struct cn_phone_overseas fr_overseas[] = {
	{"0690", "590"}, {"0691", "590"},	/* Guadeloupe */
	{"0696", "596"}, {"0697", "596"},	/* Martinique */
	{"0694", "594"},			/* Guyane */
	{"0692", "262"}, {"0693", "262"},	/* Réunion */
	{"0639", "262"},			/* Mayotte */
};

static char
ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - ('a' - 'A')) : c;
}

/* Returns the country whose ISO alpha-2 code is s (any case), or NULL. */
static const struct country *
country_by_iso(const char *s)
{
	char a, b;

	if (!s || !s[0] || !s[1] || s[2])
		return NULL;
	a = ascii_upper(s[0]);
	b = ascii_upper(s[1]);
	for (size_t i = 0; i < NCOUNTRIES; i++)
		if (countries[i].iso[0] == a && countries[i].iso[1] == b)
			return &countries[i];
	return NULL;
}

/* Returns the country whose calling code is the n (1 to 3) digits at d,
 * the first not 0; or NULL. */
static const struct country *
country_by_code(const char *d, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return cc_index[v] ? &countries[cc_index[v] - 1] : NULL;
}

/* Returns the country whose calling code starts d (n digits, the first
 * not 0), trying three digits, then two, then one; or NULL. */
static const struct country *
country_by_prefix(const char *d, size_t n)
{
	const struct country *c;

	for (size_t k = 3; k >= 1; k--)
		if (n >= k && (c = country_by_code(d, k)))
			return c;
	return NULL;
}

/*
 * Fills r with the rules of country (ISO alpha-2, any case) and, for FR,
 * a malloc'ed copy of the overseas departments' mobile prefixes, which
 * the caller may replace with another malloc'ed table.  r is always left
 * ready for cn_phone_rules_free().  Returns 0, or -1 with err
 * (CN_ECONFIG "unknown country 'XX'", or CN_EINTERNAL out of memory).
 */
int
cn_phone_rules_init(struct cn_phone_rules *r, const char *country,
		    struct cn_err *err)
{
	const struct country *c = country_by_iso(country);
	char q[QUOTE_BUF];

	r->country[0] = '\0';
	r->overseas = NULL;
	r->noverseas = 0;
	if (!c) {
		quote(q, country);
		return cn_err_set(err, CN_ECONFIG, "unknown country '%s'", q);
	}
	memcpy(r->country, c->iso, sizeof(r->country));
	if (c->cc == 33) {
		r->overseas = malloc(sizeof(fr_overseas));
		if (!r->overseas)
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		memcpy(r->overseas, fr_overseas, sizeof(fr_overseas));
		r->noverseas = sizeof(fr_overseas) / sizeof(fr_overseas[0]);
	}
	return 0;
}

/* Frees the overseas table of r (which may be NULL); r->overseas becomes
 * NULL and r->noverseas 0.  The country is kept. */
void
cn_phone_rules_free(struct cn_phone_rules *r)
{
	if (!r)
		return;
	free(r->overseas);
	r->overseas = NULL;
	r->noverseas = 0;
}

#define E164_MAX 15	/* digits after '+' */
#define SCAN_MAX 20	/* digits kept while reading; more is too long */

/*
 * Checks the n digits nsn as the NSN of country c (NULL if unknown): its
 * length must fit c's and, with a calling code of cclen digits, E.164;
 * and it must not start with c's trunk prefix (no NSN of those countries
 * does, and normalising the result again would drop it).  Returns NULL,
 * or the reason it does not fit.
 */
static const char *
nsn_check(const struct country *c, size_t cclen, const char *nsn, size_t n)
{
	if (c && n < c->min)
		return "too short";
	if ((c && n > c->max) || cclen + n > E164_MAX)
		return "too long";
	if (c && c->trunk && nsn[0] == c->trunk)
		return "misplaced trunk prefix";
	return NULL;
}

/* Writes "+" cc nsn into out (which holds at least E164_MAX + 2). */
static void
emit(char *out, const char *cc, size_t cclen, const char *nsn, size_t n)
{
	*out++ = '+';
	while (cclen--)
		*out++ = *cc++;
	while (n--)
		*out++ = *nsn++;
	*out = '\0';
}

/* Writes the calling code of c into buf (4 bytes); returns its length. */
static size_t
cc_digits(const struct country *c, char buf[4])
{
	unsigned v = c->cc;

	for (size_t i = c->cclen; i-- > 0; v /= 10)
		buf[i] = (char)('0' + v % 10);
	return c->cclen;
}

/* Returns the length of the blank that starts the NUL-terminated p: a
 * space, a tab, or in UTF-8 U+00A0, U+2000 to U+200A or U+202F; or 0. */
static size_t
blank_len(const unsigned char *p)
{
	if (p[0] == ' ' || p[0] == '\t')
		return 1;
	if (p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if (p[0] == 0xe2 && p[1] == 0x80 &&
	    ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xaf))
		return 3;
	return 0;
}

/*
 * Normalises the phone number in (NUL-terminated) to E.164 ("+" and up
 * to 15 digits) in out, which must hold at least 17 bytes.
 *
 * Spaces (also U+00A0, U+202F and U+2000-U+200A), tabs, '.', '-', '/',
 * '(' and ')' are ignored.  A number that starts with '+' or "00" ("011"
 * too for US and CA rules) is international: it must start with a known
 * calling code and its NSN must have the length of that country (a
 * trunk prefix after the code, as in "+33 (0)6..." or "+33 06...", is
 * dropped; an Italian "+39 (0)2..." keeps its 0), or, with an unknown
 * code, it must have 8 to 15 digits.  Any other number is national, for
 * rules' country: one that starts with an overseas prefix gets that
 * prefix's calling code; else the trunk prefix is dropped and the
 * country's code added.  A national number that lacks its trunk prefix
 * but has the NSN's length is accepted as the NSN ("612345678", as
 * spreadsheets write "0612345678"; "2125551234" for US), and so is one
 * that starts with the country's code without '+' ("33612345678"), when
 * only one of the two readings fits.  No NSN may start with its
 * country's trunk prefix.
 *
 * rules may be NULL: then only international numbers are accepted.
 * Returns 0.  On error returns -1, leaves out empty (if cap > 0) and sets
 * err: CN_EDATA "invalid phone 'x': <why>", CN_ECONFIG when rules name
 * an unknown country or hold a bad overseas code, CN_EINTERNAL when cap
 * is below 17.  err is not touched on success.
 */
int
cn_phone_normalize(const struct cn_phone_rules *rules, const char *in,
		   char *out, size_t cap, struct cn_err *err)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	const struct country *rc = NULL, *c;
	const char *why, *g;
	char buf[SCAN_MAX + 3], *d = buf + 1;	/* room for a trunk, NULs */
	char ccbuf[4], q[QUOTE_BUF];
	size_t n = 0, gn, skip = 0, cclen, k;
	long p0 = -1;	/* index in d of the 0 of a "(0)" */
	int plus = 0;

	if (cap < E164_MAX + 2) {
		if (out && cap)
			out[0] = '\0';
		return cn_err_set(err, CN_EINTERNAL,
				  "phone buffer too small (%zu bytes)", cap);
	}
	out[0] = '\0';
	if (rules && !(rc = country_by_iso(rules->country))) {
		quote(q, rules->country);
		return cn_err_set(err, CN_ECONFIG, "unknown country '%s'", q);
	}

	/* read the digits; the string is NUL-terminated, so looking one
	 * or two bytes ahead stops at the NUL at worst */
	for (; *p; p++) {
		unsigned ch = *p;

		if (ch - '0' < 10) {
			if (n == SCAN_MAX) {
				why = "too long";
				goto bad;
			}
			d[n++] = (char)ch;
		} else if (ch == ' ' || ch == '.' || ch == '-' || ch == '\t' ||
			   ch == '/' || ch == ')') {
			continue;
		} else if (ch == '(') {
			if (p[1] == '0' && p[2] == ')' && p0 < 0 &&
			    n < SCAN_MAX) {
				p0 = (long)n;
				d[n++] = '0';
				p += 2;
			}
		} else if (ch == '+') {
			if (plus || n) {
				why = "misplaced '+'";
				goto bad;
			}
			plus = 1;
		} else if (ch >= 0x80 && (k = blank_len(p))) {
			p += k - 1;
		} else {
			why = "not a number";
			goto bad;
		}
	}
	if (!n) {
		/* "empty" if only blanks (the error path may read again) */
		p = (const unsigned char *)(in ? in : "");
		while ((k = blank_len(p)))
			p += k;
		why = plus ? "no digits after '+'" : *p ? "not a number"
							: "empty";
		goto bad;
	}

	if (!plus && n >= 2 && d[0] == '0' && d[1] == '0')
		skip = 2;
	else if (!plus && rc && rc->cc == 1 && n >= 3 && d[0] == '0' &&
		 d[1] == '1' && d[2] == '1')
		skip = 3;
	if (plus || skip) {
		/* international */
		g = d + skip;
		gn = n - skip;
		if (!gn) {
			why = "too short";
			goto bad;
		}
		if (g[0] == '0') {
			why = "unknown country code";
			goto bad;
		}
		if ((c = country_by_prefix(g, gn))) {
			const char *nsn = g + c->cclen;
			size_t nn = gn - c->cclen;

			if (nn && c->trunk && nsn[0] == c->trunk) {
				nsn++;
				nn--;
			}
			/* "+33 690..." is the Guadeloupe number "0690...":
			 * the overseas table applies to the rules' own
			 * country in international form too */
			if (c == rc && rc->trunk && rules->noverseas &&
			    nn + 2 < sizeof(buf) && nn && nsn[0] != rc->trunk) {
				char nat[sizeof(buf)];

				nat[0] = rc->trunk;
				memcpy(nat + 1, nsn, nn);
				nat[nn + 1] = '\0';
				if (cn_phone_normalize(rules, nat, out, cap,
						       NULL) == 0)
					return 0;
			}
			if ((why = nsn_check(c, c->cclen, nsn, nn)))
				goto bad;
			emit(out, g, c->cclen, nsn, nn);
			return 0;
		}
		/* unknown code: drop a "(0)" that follows 1 to 3 digits */
		if (p0 >= (long)skip + 1 && p0 <= (long)skip + 3) {
			memmove(d + p0, d + p0 + 1, n - (size_t)p0 - 1);
			gn--;
			if (country_by_prefix(g, gn)) {
				/* "+4(0)4..." is neither +4 nor +44 */
				why = "unknown country code";
				goto bad;
			}
		}
		if (gn < 8) {
			why = "too short";
			goto bad;
		}
		if (gn > E164_MAX) {
			why = "too long";
			goto bad;
		}
		emit(out, g, gn, "", 0);
		return 0;
	}

	if (!rc) {
		why = "no country code";
		goto bad;
	}

	/* national: overseas prefixes first */
	{
		/* nat: the number as dialled nationally, with its trunk
		 * prefix put back if it was lost ("690123456") */
		int lost = rc->trunk && d[0] != rc->trunk;
		const char *nat = lost ? d - 1 : d;
		const char *nsn = lost ? d : d + (rc->trunk != 0);
		size_t nn = n - (!lost && rc->trunk);

		d[-1] = rc->trunk;
		d[n] = d[n + 1] = '\0';	/* nat[0..2] are defined */
		for (size_t i = 0; rules->overseas && i < rules->noverseas;
		     i++) {
			const struct cn_phone_overseas *o = &rules->overseas[i];
			const char *a = o->prefix, *b = nat;
			const char *oc = o->code + (o->code[0] == '+');
			size_t ol = 0;

			/* most prefixes differ in their first three digits:
			 * find out without a hard-to-predict loop */
			if (((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2])) &&
			    a[1] && a[2])
				continue;
			while (*a && *a == *b) {
				a++;
				b++;
			}
			if (*a || a == o->prefix)
				continue;
			while (ol < 4 && oc[ol] >= '0' && oc[ol] <= '9')
				ol++;
			if (ol < 1 || ol > 3 || oc[ol] || oc[0] == '0') {
				quote(q, o->code);
				return cn_err_set(err, CN_ECONFIG,
						  "invalid overseas code '%s'",
						  q);
			}
			c = country_by_code(oc, ol);
			if ((why = nsn_check(c ? c : rc, ol, nsn, nn)))
				goto bad;
			emit(out, oc, ol, nsn, nn);
			return 0;
		}
	}

	cclen = cc_digits(rc, ccbuf);
	if (rc->trunk && d[0] == rc->trunk) {
		if ((why = nsn_check(rc, cclen, d + 1, n - 1)))
			goto bad;
		emit(out, ccbuf, cclen, d + 1, n - 1);
		return 0;
	}
	{
		/* no trunk prefix: the NSN itself, or the country code
		 * followed by the NSN (and maybe a trunk prefix) */
		int bare = !nsn_check(rc, cclen, d, n);
		const char *nsn = d + cclen;
		size_t nn = n - cclen;
		int coded = 0;

		if (n > cclen && memcmp(d, ccbuf, cclen) == 0) {
			if (nn && rc->trunk && nsn[0] == rc->trunk) {
				nsn++;
				nn--;
			}
			coded = !nsn_check(rc, cclen, nsn, nn);
		}
		if (bare && (!coded || !rc->trunk)) {
			emit(out, ccbuf, cclen, d, n);
			return 0;
		}
		if (coded && !bare) {
			emit(out, ccbuf, cclen, nsn, nn);
			return 0;
		}
		if (bare) {
			why = "ambiguous without '+' or trunk prefix";
			goto bad;
		}
		why = n < rc->min ? "too short" : "too long";
	}
bad:
	quote(q, in);
	return cn_err_set(err, CN_EDATA, "invalid phone '%s': %s", q, why);
}
