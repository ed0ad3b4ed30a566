/*
 * fuzz-template.c - the template renderer (lib/template.c): the body
 * compiled by cn_tpl_parse(), checked, rendered for one record with
 * cn_tpl_render() and previewed with cn_tpl_preview() (whose counts are
 * checked as the GSM target does); cn_tpl_reply_parse() on the body.
 *
 * Input: a flags byte, the body up to the first 0xff byte, then fields
 * "name=value" separated by 0xfe bytes (a value starting with '{' or '['
 * is JSON, '~' alone is null).
 */
#include <string.h>

#include "sms.h"

static void
add_fields(struct cn_record *r, const char *s, size_t len, char **names,
	   size_t *nnames)
{
	while (len && *nnames < 16) {
		const char *end = memchr(s, 0xfe, len), *eq;
		size_t flen = end ? (size_t)(end - s) : len;
		enum cn_vtype type = CN_V_STR;
		const char *v;
		size_t vlen;

		eq = memchr(s, '=', flen);
		if (eq) {
			names[*nnames] = strndup(s, (size_t)(eq - s));
			v = eq + 1;
			vlen = flen - (size_t)(eq - s) - 1;
			if (vlen == 1 && *v == '~')
				type = CN_V_NULL;
			else if (vlen && (*v == '{' || *v == '['))
				type = CN_V_RAW;
			if (names[*nnames])
				cn_record_add(r, names[(*nnames)++],
					      type == CN_V_NULL ? NULL : v,
					      type == CN_V_NULL ? 0 : vlen,
					      type);
		}
		if (!end)
			break;
		len -= flen + 1;
		s = end + 1;
	}
}

static void
reply_roundtrip(const char *body, size_t len)
{
	char *s = strndup(body, len), buf[40];
	enum cn_tpl_reply mode, mode2;
	int64_t hours, until, hours2, until2;
	struct cn_err err;

	if (!s)
		return;
	if (cn_tpl_reply_parse(s, &mode, &hours, &until, &err) == 0) {
		cn_tpl_reply_format(mode, hours, until, buf);
		if (cn_tpl_reply_parse(buf, &mode2, &hours2, &until2,
				       &err) < 0)
			fuzz_fail("'%s' formats as '%s', refused: %s", s, buf,
				  err.msg);
		fuzz_assert(mode == mode2 && hours == hours2 &&
			    until == until2, "'%s' formats as '%s', read back "
			    "differently", s, buf);
	} else {
		fuzz_assert(err.code == CN_EUSAGE, "reply parse code %d",
			    err.code);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_tpl t;
	struct cn_record rec;
	struct cn_tpl_env env = {.date = 1795000000};
	struct cn_sms_opts o = {0};
	struct cn_sms_preview p;
	struct cn_buf out, text;
	struct cn_err err;
	char *names[16];
	size_t nnames = 0, blen;
	const char *body;
	const uint8_t *ff;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	body = (const char *)data + 1;
	ff = memchr(body, 0xff, size - 1);
	blen = ff ? (size_t)(ff - data) - 1 : size - 1;
	reply_roundtrip(body, blen);

	if (cn_tpl_parse(&t, body, blen, &err) < 0) {
		fuzz_assert(err.code == CN_EDATA, "parse failed with %d: %s",
			    err.code, err.msg);
		fuzz_assert(t.nfields == 0, "fields left after an error");
		cn_tpl_free(&t);
		return 0;
	}
	for (size_t i = 0; i < t.nfields; i++)
		fuzz_assert(t.fields[i].name && t.fields[i].name[0] &&
			    t.fields[i].line >= 1 && t.fields[i].column >= 1,
			    "field %zu badly described", i);

	cn_record_init(&rec);
	if (ff)
		add_fields(&rec, (const char *)ff + 1,
			   size - (size_t)(ff - data) - 1, names, &nnames);
	if (cn_tpl_check(&t, (const char *const *)names, nnames, &err) < 0)
		fuzz_assert(err.code == CN_EDATA, "check code %d", err.code);

	env.sender = (flags & 1) ? "ACME" : NULL;
	cn_buf_init(&out, 1 << 20);
	cn_buf_adds(&out, "<");
	if (cn_tpl_render(&t, &rec, &env, &out, &err) < 0) {
		fuzz_assert(out.len == 1 && !strcmp(out.ptr, "<"),
			    "a failed render changed out");
		fuzz_assert(err.code == CN_EDATA || err.code == CN_EINTERNAL,
			    "render code %d", err.code);
	} else if (t.nfields == 0) {
		fuzz_assert(!memchr(out.ptr, '\0', out.len), "NUL in output");
	}

	o.transliterate = !!(flags & 2);
	o.sender = (flags & 4) ? "ACME" : NULL;
	o.stop_mention = (flags & 8) ? "STOP au 36180" : NULL;
	o.stop_newline = !!(flags & 16);
	cn_buf_init(&text, 1 << 20);
	if (cn_tpl_preview(&t, &rec, &env, &o, flags >> 5, &text, &p,
			   &err) == 0) {
		fuzz_check_preview(&p);
		fuzz_assert(!(flags >> 5) || p.segments <= (size_t)(flags >> 5),
			    "%zu segments over the limit %d", p.segments,
			    flags >> 5);
		cn_sms_preview_free(&p);
	} else {
		fuzz_assert(p.text == NULL, "preview text left after an error");
	}

	cn_buf_free(&text);
	cn_buf_free(&out);
	cn_record_free(&rec);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	cn_tpl_free(&t);
	return 0;
}
