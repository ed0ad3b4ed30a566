/*
 * fetch-kannel.c - Kannel's callbacks: the delivery reports it sends to
 * the dlr-url carnet-sms-send gives each message, and the MOs its
 * sms-service passes to get-url/post-url.  Both arrive as URL-encoded
 * parameters; this file decodes them into a receipt or an inbound
 * message and applies it (lib/fetch.c).
 *
 * In a delivery report %p is the handset (the message's recipient) and
 * %P our side (the sender): the other way round from the MT, so the
 * number of a receipt is p.  In an MO, %p is the handset too.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "carnet.h"
#include "internal.h"

#define MAX_PARAMS CN_CALLBACK_MAX_PARAMS

struct param {
	const char *name;
	size_t nlen;
	char *value;	/* decoded, malloc'ed */
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes into out (NUL-terminated even on failure, if cap > 0), returning
 * the length, or -1 (cap too small, or a '%' without two hex digits
 * after it: no gateway sends one). */
static long
decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	int bad = 0;

	if (cap == 0)
		return -1;
	for (size_t i = 0; i < len && !bad; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= len || hexval(s[i + 1]) < 0 ||
			    hexval(s[i + 2]) < 0) {
				bad = 1;
				break;
			}
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		}
		if (n + 1 >= cap)
			bad = 1;
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return bad ? -1 : (long)n;
}

int
cn_url_decode(const char *s, size_t len, char *out, size_t cap)
{
	long n = decode(s, len, out, cap);

	if (n < 0 || memchr(out, '\0', (size_t)n))
		return -1;
	return 0;
}

/* Splits query into params (values decoded, possibly with NUL bytes for
 * binary text; *vlen gives their length).  Returns the count, or -1 with
 * err (CN_EDATA: too many parameters, an invalid %-escape). */
static int
split(const char *q, size_t len, struct param *p, size_t *vlen, int max,
      struct cn_err *err)
{
	int n = 0;
	size_t i = 0;

	while (i < len) {
		size_t start = i, eq, end;
		long l;

		while (i < len && q[i] != '&')
			i++;
		end = i++;
		if (end == start)
			continue;
		for (eq = start; eq < end && q[eq] != '='; eq++)
			;
		if (n == max) {
			cn_err_set(err, CN_EDATA, "callback: more than %d "
				   "parameters", max);
			goto fail;
		}
		p[n].name = q + start;
		p[n].nlen = eq - start;
		p[n].value = malloc(end - eq + 1);
		if (!p[n].value) {
			cn_err_set(err, CN_EINTERNAL, "out of memory");
			goto fail;
		}
		l = decode(q + eq + (eq < end), end - eq - (eq < end),
			   p[n].value, end - eq + 1);
		if (l < 0) {
			free(p[n].value);
			cn_err_set(err, CN_EDATA, "callback: invalid %%-escape "
				   "(a '%%' without two hex digits)");
			goto fail;
		}
		vlen[n++] = (size_t)l;
	}
	return n;
fail:
	while (n > 0)
		free(p[--n].value);
	return -1;
}

static int
find(const struct param *p, int n, const char *name)
{
	size_t l = strlen(name);

	for (int i = n - 1; i >= 0; i--)
		if (p[i].nlen == l && memcmp(p[i].name, name, l) == 0)
			return i;
	return -1;
}

static const char *
get(const struct param *p, const size_t *vlen, int n, const char *a,
    const char *b)
{
	int i = find(p, n, a);

	if (i < 0 && b)
		i = find(p, n, b);
	if (i < 0 || vlen[i] == 0 || memchr(p[i].value, '\0', vlen[i]))
		return NULL;
	return p[i].value;
}

/* The text of an MO in UTF-8 (malloc'ed): converted from charset when
 * one is given and it is not UTF-8.  NULL on failure. */
static char *
to_utf8(const char *text, size_t len, const char *charset)
{
	iconv_t cd;
	char *out, *op, *ip = (char *)text;
	size_t cap = len * 4 + 1, il = len, ol;

	if (!charset || !*charset || strcasecmp(charset, "UTF-8") == 0 ||
	    strcasecmp(charset, "utf8") == 0) {
		if (memchr(text, '\0', len))
			return NULL;
		return strndup(text, len);
	}
	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return NULL;
	out = malloc(cap);
	if (!out) {
		iconv_close(cd);
		return NULL;
	}
	op = out;
	ol = cap - 1;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
		free(out);
		iconv_close(cd);
		return NULL;
	}
	iconv_close(cd);
	*op = '\0';
	if (memchr(out, '\0', (size_t)(op - out))) {
		free(out);
		return NULL;
	}
	return out;
}

int
cn_fetch_kannel(struct cn_fetch *f, const char *query, size_t len,
		struct cn_err *err)
{
	struct param p[MAX_PARAMS];
	size_t vlen[MAX_PARAMS];
	int n = split(query, len, p, vlen, MAX_PARAMS, err), rc;
	const char *ref, *type, *ts;
	int64_t at = 0;

	if (n < 0)
		return -1;
	ref = get(p, vlen, n, "ref", NULL);
	type = get(p, vlen, n, "type", NULL);
	ts = get(p, vlen, n, "ts", "T");
	if (!ts)
		ts = get(p, vlen, n, "time", NULL);
	if (ts) {
		/* Unix seconds (Kannel's %T); 0 is "now" */
		char *end;
		long long v;

		errno = 0;
		v = strtoll(ts, &end, 10);
		if (ts[0] < '0' || ts[0] > '9' || *end || errno) {
			rc = cn_err_set(err, CN_EDATA, "callback: a time that "
					"is not Unix seconds");
			goto out;
		}
		at = v;
	}
	if (ref || type) {
		struct cn_receipt r = {
			.ref = ref,
			.provider_id = get(p, vlen, n, "id", NULL),
			.number = get(p, vlen, n, "p", NULL),
			.kannel_type = -1,
			.reason = get(p, vlen, n, "A", "reason"),
			.at = at,
		};
		char *end;
		long v = type ? strtol(type, &end, 10) : -1;

		if (!type || *end || v < 0 || v > 255)
			rc = cn_err_set(err, CN_EDATA, "callback: delivery "
					"report without a valid type '%s'",
					type ? type : "");
		else if (!ref)
			rc = cn_err_set(err, CN_EDATA, "callback: delivery "
					"report without ref");
		else {
			r.kannel_type = (int)v;
			rc = cn_fetch_receipt(f, &r, err);
		}
	} else {
		int ti = find(p, n, "text");
		const char *from = get(p, vlen, n, "p", "from");
		char *text;

		if (ti < 0)
			ti = find(p, n, "a");
		if (!from || ti < 0) {
			rc = cn_err_set(err, CN_EDATA, "callback: neither a "
					"delivery report (ref, type) nor an MO "
					"(p, text)");
		} else if (!(text = to_utf8(p[ti].value, vlen[ti],
					    get(p, vlen, n, "C",
						"charset")))) {
			rc = cn_err_set(err, CN_EDATA, "callback: MO from %s: "
					"text not valid in its charset", from);
		} else {
			struct cn_inbound in = {
				.from = from,
				.to = get(p, vlen, n, "P", "to"),
				.text = text,
				.provider_id = get(p, vlen, n, "I", "id"),
				.at = at,
			};

			rc = cn_fetch_inbound(f, &in, err);
			free(text);
		}
	}
out:
	for (int i = 0; i < n; i++)
		free(p[i].value);
	return rc;
}
