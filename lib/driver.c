/*
 * driver.c - SMS gateway drivers behind one interface: kannel (smsbox's
 * sendsms), twilio (REST Messages.json), http (generic, from templates in
 * the config) and simulate.  A driver only builds requests and reads
 * answers; lib/send.c owns the transfers (libcurl multi), the store and
 * the retries.
 */
#include <ctype.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "carnet.h"
#include "internal.h"

enum drv_kind { DRV_SIMULATE, DRV_KANNEL, DRV_TWILIO, DRV_HTTP };

struct cn_driver {
	enum drv_kind kind;
	const struct cn_config *cfg;	/* borrowed */
	char *url;		/* kannel sendsms URL; twilio Messages URL */
	char *user;		/* kannel username; twilio account sid */
	char *secret;		/* kannel password; twilio auth token;
				   http: $CARNET_HTTP_SECRET */
	char *token;		/* callback token for dlr-url, or NULL */
	regex_t success_re, id_re;
	int has_success_re, has_id_re;
};

/* What one request keeps alive until it is done. */
struct drv_req {
	struct curl_slist *headers;
	struct cn_buf url, body;
	char *userpwd;
};

static const char *const drv_names[] = {
	[DRV_SIMULATE] = "simulate",
	[DRV_KANNEL] = "kannel",
	[DRV_TWILIO] = "twilio",
	[DRV_HTTP] = "http",
};

/* Appends s URL-encoded (RFC 3986 unreserved characters kept). */
static void
url_escape(struct cn_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' ||
		    ch == '~') {
			cn_buf_add(b, (const char *)&ch, 1);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			cn_buf_add(b, e, 3);
		}
	}
}

/* Appends s as the inside of a JSON string. */
static void
json_escape(struct cn_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '"': cn_buf_add(b, "\\\"", 2); break;
		case '\\': cn_buf_add(b, "\\\\", 2); break;
		case '\n': cn_buf_add(b, "\\n", 2); break;
		case '\r': cn_buf_add(b, "\\r", 2); break;
		case '\t': cn_buf_add(b, "\\t", 2); break;
		default:
			if (ch < 0x20)
				cn_buf_addf(b, "\\u%04x", ch);
			else
				cn_buf_add(b, (const char *)&ch, 1);
		}
	}
}

/* Appends name=value& with value URL-encoded (skipped when NULL). */
static void
param(struct cn_buf *b, const char *name, const char *value)
{
	if (!value)
		return;
	if (b->len && b->ptr[b->len - 1] != '?')
		cn_buf_add(b, "&", 1);
	cn_buf_addf(b, "%s=", name);
	url_escape(b, value);
}

static int
need(const char *v, const char *key, struct cn_err *err)
{
	if (v && *v)
		return 0;
	return cn_err_set(err, CN_ECONFIG, "sms.driver %s needs %s in the "
			  "configuration", key, key);
}

struct cn_driver *
cn_driver_open(const struct cn_config *cfg, const char *name,
	       struct cn_err *err)
{
	struct cn_driver *d;
	struct cn_buf b;

	if (!name)
		name = cfg->sms_driver;
	if (!name || !*name) {
		cn_err_set(err, CN_ECONFIG, "no SMS gateway configured "
			   "(sms.driver: kannel, twilio, http or simulate); "
			   "use a simulation to try without one");
		return NULL;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	d->cfg = cfg;
	if (strcmp(name, "simulate") == 0) {
		d->kind = DRV_SIMULATE;
	} else if (strcmp(name, "kannel") == 0) {
		d->kind = DRV_KANNEL;
		if (need(cfg->sms_kannel_url, "sms.kannel.url", err) < 0 ||
		    need(cfg->sms_kannel_username, "sms.kannel.username",
			 err) < 0 ||
		    cn_secret("CARNET_KANNEL_PASSWORD",
			      cfg->sms_kannel_password_file,
			      cfg->sms_kannel_password, &d->secret, err) < 0)
			goto fail;
		if (!d->secret) {
			cn_err_set(err, CN_ECONFIG, "sms.driver kannel needs a "
				   "password: $CARNET_KANNEL_PASSWORD, "
				   "sms.kannel.password_file or "
				   "sms.kannel.password");
			goto fail;
		}
		d->url = strdup(cfg->sms_kannel_url);
		d->user = strdup(cfg->sms_kannel_username);
		if (cfg->sms_kannel_dlr_url &&
		    cn_secret("CARNET_CALLBACK_TOKEN",
			      cfg->sms_callback_token_file,
			      cfg->sms_callback_token, &d->token, err) < 0)
			goto fail;
	} else if (strcmp(name, "twilio") == 0) {
		d->kind = DRV_TWILIO;
		if (need(cfg->sms_twilio_account_sid,
			 "sms.twilio.account_sid", err) < 0 ||
		    cn_secret("CARNET_TWILIO_AUTH_TOKEN",
			      cfg->sms_twilio_auth_token_file,
			      cfg->sms_twilio_auth_token, &d->secret, err) < 0)
			goto fail;
		if (!d->secret) {
			cn_err_set(err, CN_ECONFIG, "sms.driver twilio needs an "
				   "auth token: $CARNET_TWILIO_AUTH_TOKEN, "
				   "sms.twilio.auth_token_file or "
				   "sms.twilio.auth_token");
			goto fail;
		}
		cn_buf_init(&b, 0);
		cn_buf_addf(&b, "%s", cfg->sms_twilio_base_url
				  ? cfg->sms_twilio_base_url
				  : "https://api.twilio.com");
		while (b.len && b.ptr[b.len - 1] == '/')
			b.ptr[--b.len] = '\0';
		cn_buf_add(&b, "/2010-04-01/Accounts/", 21);
		url_escape(&b, cfg->sms_twilio_account_sid);
		cn_buf_add(&b, "/Messages.json", 14);
		d->url = cn_buf_detach(&b);
		d->user = strdup(cfg->sms_twilio_account_sid);
	} else if (strcmp(name, "http") == 0) {
		d->kind = DRV_HTTP;
		if (need(cfg->sms_http_url, "sms.http.url", err) < 0 ||
		    cn_secret("CARNET_HTTP_SECRET", NULL, NULL, &d->secret,
			      err) < 0)
			goto fail;
		if (cfg->sms_http_success_regex) {
			if (regcomp(&d->success_re, cfg->sms_http_success_regex,
				    REG_EXTENDED | REG_NOSUB)) {
				cn_err_set(err, CN_ECONFIG, "sms.http."
					   "success_regex: invalid");
				goto fail;
			}
			d->has_success_re = 1;
		}
		if (cfg->sms_http_id_regex) {
			if (regcomp(&d->id_re, cfg->sms_http_id_regex,
				    REG_EXTENDED)) {
				cn_err_set(err, CN_ECONFIG, "sms.http.id_regex: "
					   "invalid");
				goto fail;
			}
			d->has_id_re = 1;
		}
	} else {
		cn_err_set(err, CN_ECONFIG, "unknown SMS driver '%s' (kannel, "
			   "twilio, http or simulate)", name);
		goto fail;
	}
	return d;
fail:
	cn_driver_close(d);
	return NULL;
}

void
cn_driver_close(struct cn_driver *d)
{
	if (!d)
		return;
	if (d->has_success_re)
		regfree(&d->success_re);
	if (d->has_id_re)
		regfree(&d->id_re);
	cn_secret_free(d->secret);
	cn_secret_free(d->token);
	free(d->url);
	free(d->user);
	free(d);
}

const char *
cn_driver_name(const struct cn_driver *d)
{
	return drv_names[d->kind];
}

int
cn_driver_is_simulated(const struct cn_driver *d)
{
	return d->kind == DRV_SIMULATE;
}

/* The http driver's templates: {{to}}, {{from}}, {{text}}, {{ref}},
 * {{encoding}}, {{segments}}, {{secret}}; esc 'u' URL, 'j' JSON, 0 raw. */
static int
expand(struct cn_driver *d, struct cn_buf *b, const char *tpl,
       const struct cn_gw_msg *m, int esc, struct cn_err *err)
{
	const char *p = tpl, *o, *e;
	char seg[24];

	while ((o = strstr(p, "{{"))) {
		const char *v;
		size_t n;

		cn_buf_add(b, p, (size_t)(o - p));
		if (!(e = strstr(o + 2, "}}")))
			return cn_err_set(err, CN_ECONFIG, "sms.http: '{{' "
					  "without '}}' in a template");
		o += 2;
		while (o < e && *o == ' ')
			o++;
		n = (size_t)(e - o);
		while (n && o[n - 1] == ' ')
			n--;
#define IS(s) (n == sizeof(s) - 1 && memcmp(o, s, n) == 0)
		if (IS("to"))
			v = m->to;
		else if (IS("from"))
			v = m->from ? m->from : "";
		else if (IS("text"))
			v = m->text;
		else if (IS("ref"))
			v = m->ref;
		else if (IS("encoding"))
			v = cn_sms_encoding_name(m->encoding);
		else if (IS("segments")) {
			snprintf(seg, sizeof(seg), "%zu", m->segments);
			v = seg;
		} else if (IS("secret"))
			v = d->secret ? d->secret : "";
		else
			return cn_err_set(err, CN_ECONFIG, "sms.http: unknown "
					  "field {{%.*s}} (to, from, text, ref, "
					  "encoding, segments, secret)",
					  (int)n, o);
#undef IS
		if (esc == 'u')
			url_escape(b, v);
		else if (esc == 'j')
			json_escape(b, v);
		else {
			if (strpbrk(v, "\r\n"))
				return cn_err_set(err, CN_EDATA, "sms.http: a "
						  "header value would hold a "
						  "line break");
			cn_buf_add(b, v, strlen(v));
		}
		p = e + 2;
	}
	cn_buf_add(b, p, strlen(p));
	return 0;
}

static int
looks_json(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return *s == '{' || *s == '[';
}

int
cn_driver_request(struct cn_driver *d, void *handle,
		  const struct cn_gw_msg *m, void **priv, struct cn_err *err)
{
	CURL *h = handle;
	struct drv_req *r;
	struct cn_buf dlr;

	*priv = NULL;
	if (d->kind == DRV_SIMULATE)
		return cn_err_set(err, CN_EINTERNAL, "the simulation sends "
				  "no request");
	if (!(r = calloc(1, sizeof(*r))))
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	cn_buf_init(&r->url, 0);
	cn_buf_init(&r->body, 0);
	*priv = r;
	switch (d->kind) {
	case DRV_KANNEL:
		cn_buf_addf(&r->url, "%s%c", d->url,
			    strchr(d->url, '?') ? '&' : '?');
		param(&r->url, "username", d->user);
		param(&r->url, "password", d->secret);
		param(&r->url, "to", m->to);
		param(&r->url, "from", m->from);
		param(&r->url, "text", m->text);
		/* Kannel does not pick UCS-2 by itself: ê would become ? */
		param(&r->url, "charset", "UTF-8");
		param(&r->url, "coding",
		      m->encoding == CN_SMS_UCS2 ? "2" : "0");
		if (d->cfg->sms_kannel_dlr_url) {
			cn_buf_init(&dlr, 0);
			cn_buf_addf(&dlr, "%s%c", d->cfg->sms_kannel_dlr_url,
				    strchr(d->cfg->sms_kannel_dlr_url, '?')
					? '&' : '?');
			if (d->token) {
				cn_buf_add(&dlr, "t=", 2);
				url_escape(&dlr, d->token);
				cn_buf_add(&dlr, "&", 1);
			}
			cn_buf_add(&dlr, "ref=", 4);
			url_escape(&dlr, m->ref);
			cn_buf_addf(&dlr, "&type=%%d&p=%%p&P=%%P&ts=%%T&A=%%A");
			param(&r->url, "dlr-mask", "31");
			param(&r->url, "dlr-url", dlr.ptr);
			cn_buf_free(&dlr);
		}
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		break;
	case DRV_TWILIO:
		cn_buf_addf(&r->url, "%s", d->url);
		param(&r->body, "To", m->to);
		param(&r->body, "From", m->from);
		param(&r->body, "Body", m->text);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body.ptr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)r->body.len);
		{
			size_t n = strlen(d->user) + strlen(d->secret) + 2;

			if (!(r->userpwd = malloc(n)))
				return cn_err_set(err, CN_EINTERNAL,
						  "out of memory");
			snprintf(r->userpwd, n, "%s:%s", d->user, d->secret);
		}
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, r->userpwd);
		r->headers = curl_slist_append(r->headers,
					       "Accept: application/json");
		break;
	case DRV_HTTP: {
		const char *method = d->cfg->sms_http_method
				     ? d->cfg->sms_http_method : "POST";
		int json = d->cfg->sms_http_body &&
			   looks_json(d->cfg->sms_http_body);

		if (expand(d, &r->url, d->cfg->sms_http_url, m, 'u', err) < 0)
			return -1;
		for (size_t i = 0; i < d->cfg->sms_http_nheaders; i++) {
			struct cn_buf hb;

			cn_buf_init(&hb, 0);
			if (expand(d, &hb, d->cfg->sms_http_headers[i], m, 0,
				   err) < 0) {
				cn_buf_free(&hb);
				return -1;
			}
			r->headers = curl_slist_append(r->headers, hb.ptr);
			cn_buf_free(&hb);
		}
		if (strcmp(method, "GET") == 0) {
			curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		} else {
			if (d->cfg->sms_http_body &&
			    expand(d, &r->body, d->cfg->sms_http_body, m,
				   json ? 'j' : 'u', err) < 0)
				return -1;
			if (!r->body.ptr)
				cn_buf_add(&r->body, "", 0);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body.ptr);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
					 (long)r->body.len);
			if (strcmp(method, "POST") != 0)
				curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
						 method);
		}
		break;
	}
	default:
		break;
	}
	/* every option a request sets is set by each request (the sender
	 * keeps its handles from one request to the next) */
	curl_easy_setopt(h, CURLOPT_URL, r->url.ptr);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
	return 0;
}

void
cn_driver_request_free(void *priv)
{
	struct drv_req *r = priv;

	if (!r)
		return;
	curl_slist_free_all(r->headers);
	if (r->url.ptr)	/* the URL of kannel holds the password */
		explicit_bzero(r->url.ptr, r->url.len);
	cn_buf_free(&r->url);
	cn_buf_free(&r->body);
	if (r->userpwd) {
		explicit_bzero(r->userpwd, strlen(r->userpwd));
		free(r->userpwd);
	}
	free(r);
}

/* Copies the first line of body (at most cap-1 bytes, printable). */
static void
first_line(char *out, size_t cap, const char *body, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		unsigned char ch = (unsigned char)body[i];

		if (ch == '\n' || ch == '\r') {
			if (n)
				break;
			continue;
		}
		out[n++] = ch < 0x20 ? ' ' : (char)ch;
	}
	out[n] = '\0';
}

/* Whether the first line of a 2xx answer is smsbox's: "0: Accepted for
 * delivery", "3: Queued for later delivery" (a number, a colon), or the
 * "Sent." of old versions.  Turns what is not printable ASCII into '?'
 * for the message that quotes it. */
static int
kannel_answer(char *line)
{
	const char *p = line;

	for (char *q = line; *q; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
			*q = '?';
	while (*p >= '0' && *p <= '9')
		p++;
	return (p > line && *p == ':') || strncmp(line, "Sent.", 5) == 0;
}

/* Finds a dotted path ("data.id", "messages.0.id") in a JSON body. */
static int
json_path(const char *body, size_t len, const char *path, char *out,
	  size_t cap)
{
	cJSON *root = cJSON_ParseWithLength(body, len), *n = root;
	char part[128];
	const char *p = path;
	int ok = 0;

	while (n && *p) {
		size_t k = strcspn(p, ".");

		if (k >= sizeof(part))
			k = sizeof(part) - 1;
		memcpy(part, p, k);
		part[k] = '\0';
		p += k + (p[k] == '.');
		if (cJSON_IsArray(n) && isdigit((unsigned char)part[0])) {
			/* an index too large for an int matches nothing */
			long i = strtol(part, NULL, 10);

			n = i <= INT_MAX ? cJSON_GetArrayItem(n, (int)i) : NULL;
		} else
			n = cJSON_GetObjectItemCaseSensitive(n, part);
	}
	if (n && cJSON_IsString(n) && n->valuestring) {
		snprintf(out, cap, "%s", n->valuestring);
		ok = 1;
	} else if (n && cJSON_IsNumber(n)) {
		snprintf(out, cap, "%.0f", n->valuedouble);
		ok = 1;
	}
	cJSON_Delete(root);
	return ok;
}

/* Twilio's error body: {"code": 21211, "message": "...", ...}. */
static void
twilio_reason(const char *body, size_t len, long status, char *out,
	      size_t cap)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");

	if (cJSON_IsString(msg))
		snprintf(out, cap, "HTTP %ld: %s%s%.0f%s", status,
			 msg->valuestring, cJSON_IsNumber(code) ? " (code " : "",
			 cJSON_IsNumber(code) ? code->valuedouble : 0.0,
			 cJSON_IsNumber(code) ? ")" : "");
	else {
		char line[200];

		first_line(line, sizeof(line), body, len);
		snprintf(out, cap, "HTTP %ld%s%s", status, *line ? ": " : "",
			 line);
	}
	cJSON_Delete(root);
}

void
cn_driver_result(struct cn_driver *d, long status, int curl_code,
		 const char *curl_error, const char *body, size_t len,
		 long retry_after, struct cn_gw_result *r)
{
	char line[200];

	memset(r, 0, sizeof(*r));
	r->http_status = status;
	r->retry_after = retry_after;
	if (!body)
		body = "", len = 0;
	if (cn_tls_untrusted(curl_code)) {
		/* not a passing failure: retrying from cron would not help */
		r->outcome = CN_GW_AUTH;
		snprintf(r->reason, sizeof(r->reason), "TLS: the gateway's "
			 "certificate is not trusted (%s); nothing was sent",
			 curl_error && *curl_error
				 ? curl_error
				 : curl_easy_strerror((CURLcode)curl_code));
		return;
	}
	if (curl_code) {
		r->outcome = CN_GW_TEMP;
		snprintf(r->reason, sizeof(r->reason), "%s",
			 curl_error && *curl_error
				 ? curl_error
				 : curl_easy_strerror((CURLcode)curl_code));
		return;
	}
	first_line(line, sizeof(line), body, len);
	switch (d->kind) {
	case DRV_KANNEL:
		/* "0: Accepted for delivery", "3: Queued for later delivery";
		 * no message id: carnet's ref travels in dlr-url */
		if (status >= 200 && status < 300 && !kannel_answer(line)) {
			/* not smsbox (a proxy, a portal): it may or may not
			 * have passed the request on */
			r->outcome = CN_GW_DOUBT;
			snprintf(r->reason, sizeof(r->reason), "Kannel HTTP %ld: "
				 "unexpected answer \"%.80s\" (not \"0: "
				 "Accepted...\" or \"3: Queued...\")", status,
				 line);
		} else if (status >= 200 && status < 300)
			r->outcome = CN_GW_OK;
		else if (status == 401 || status == 403) {
			r->outcome = CN_GW_AUTH;
			snprintf(r->reason, sizeof(r->reason), "Kannel refused "
				 "the credentials (HTTP %ld: %s): check "
				 "sms.kannel.username and the password", status,
				 line);
		} else if (status >= 500 || status == 429 || status == 408) {
			r->outcome = CN_GW_TEMP;
			snprintf(r->reason, sizeof(r->reason), "Kannel HTTP %ld: "
				 "%s", status, line);
		} else {
			r->outcome = CN_GW_PERM;
			snprintf(r->reason, sizeof(r->reason), "Kannel rejected "
				 "the message (HTTP %ld: %s)", status, line);
		}
		return;
	case DRV_TWILIO:
		if (status >= 200 && status < 300) {
			if (json_path(body, len, "sid", r->provider_id,
				      sizeof(r->provider_id)))
				r->outcome = CN_GW_OK;
			else {
				/* Twilio may have taken it: a retry could
				 * send it twice */
				r->outcome = CN_GW_DOUBT;
				snprintf(r->reason, sizeof(r->reason), "HTTP %ld "
					 "without a message sid: %s", status,
					 line);
			}
			return;
		}
		twilio_reason(body, len, status, r->reason, sizeof(r->reason));
		r->outcome = status == 401 || status == 403 ? CN_GW_AUTH
			     : status >= 500 || status == 429 || status == 408
				 ? CN_GW_TEMP
				 : CN_GW_PERM;
		return;
	case DRV_HTTP:
		if (status >= 200 && status < 300) {
			if (d->has_success_re) {
				char *z = strndup(body, len);
				int m = z && regexec(&d->success_re, z, 0, NULL,
						     0) == 0;

				free(z);
				if (!m) {
					r->outcome = CN_GW_PERM;
					snprintf(r->reason, sizeof(r->reason),
						 "the answer does not match "
						 "sms.http.success_regex "
						 "(HTTP %ld: %s)", status, line);
					return;
				}
			}
			r->outcome = CN_GW_OK;
			if (d->cfg->sms_http_id_path)
				json_path(body, len, d->cfg->sms_http_id_path,
					  r->provider_id,
					  sizeof(r->provider_id));
			if (!r->provider_id[0] && d->has_id_re) {
				char *z = strndup(body, len);
				regmatch_t g[2];

				if (z && regexec(&d->id_re, z, 2, g, 0) == 0 &&
				    g[1].rm_so >= 0)
					snprintf(r->provider_id,
						 sizeof(r->provider_id), "%.*s",
						 (int)(g[1].rm_eo - g[1].rm_so),
						 z + g[1].rm_so);
				free(z);
			}
			return;
		}
		snprintf(r->reason, sizeof(r->reason), "HTTP %ld%s%s", status,
			 *line ? ": " : "", line);
		r->outcome = status == 401 || status == 403 ? CN_GW_AUTH
			     : status >= 500 || status == 429 || status == 408
				 ? CN_GW_TEMP
				 : CN_GW_PERM;
		return;
	default:
		r->outcome = CN_GW_OK;
	}
}
