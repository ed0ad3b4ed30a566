/*
 * fetch-twilio.c - the pull of the twilio driver: the account's message
 * list (GET /2010-04-01/Accounts/{sid}/Messages.json, Basic auth),
 * filtered by DateSent> from a checkpoint kept in the store, followed
 * page by page through next_page_uri.  Outbound messages give their
 * status as receipts (matched by sid, stored only when the message
 * moves: the listing repeats statuses); inbound ones are replies
 * (duplicates ignored by sid).  Each page is applied in one transaction.
 *
 * DateSent> filters by day, so the pull asks from the day before its
 * checkpoint: a status that changed late in the day is seen again.  It
 * reaches back further, to the send of the oldest open twilio campaign
 * with a message still waiting for its final status: a handset switched
 * off for two days is delivered, and its status changes, two days after
 * DateSent (once the campaign is closed, its events are held anyway).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

#define PAGE_MAX (16u << 20)	/* bytes of one page */

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct cn_buf *b = ctx;

	if (cn_buf_add(b, p, size * n) < 0)
		return 0;
	return size * n;
}

/* RFC 2822 ("Thu, 24 Aug 2023 05:01:45 +0000") to Unix time; 0 if not. */
static int64_t
rfc2822(const char *s)
{
	struct tm tm;
	const char *end;

	if (!s)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (!end || *end)
		return 0;
	return (int64_t)timegm(&tm) - tm.tm_gmtoff;
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Twilio's status names to carnet's receipt statuses. */
static const char *
map_status(const char *s)
{
	if (!s)
		return NULL;
	if (!strcmp(s, "delivered") || !strcmp(s, "read"))
		return "delivered";
	if (!strcmp(s, "undelivered") || !strcmp(s, "failed"))
		return "failed";
	if (!strcmp(s, "canceled"))
		return "rejected";
	if (!strcmp(s, "sent") || !strcmp(s, "queued") ||
	    !strcmp(s, "sending") || !strcmp(s, "accepted") ||
	    !strcmp(s, "scheduled"))
		return "accepted";
	return NULL;
}

static int
setting_get(sqlite3 *db, const char *key, int64_t *out, struct cn_err *err)
{
	sqlite3_stmt *s;

	*out = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM setting WHERE key = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return cn_sql_fail(err, db, "twilio");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int
setting_set(sqlite3 *db, const char *key, int64_t v, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO setting(key, value)"
			       " VALUES(?1, ?2) ON CONFLICT(key)"
			       " DO UPDATE SET value = excluded.value",
			       -1, &s, NULL) != SQLITE_OK)
		return cn_sql_fail(err, db, "twilio");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, db, "twilio");
}

/* The integer of a one-value query, with ?1 bound to id if it has one
 * (0 if none). */
static int64_t
query_int(sqlite3 *db, const char *sql, int64_t id)
{
	sqlite3_stmt *s;
	int64_t t = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		t = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return t;
}

/* When the campaign was sent (or created), for a pull of one campaign. */
static int64_t
campaign_since(sqlite3 *db, int64_t id)
{
	return query_int(db, "SELECT coalesce(sent_at, created_at) FROM "
			 "campaign WHERE id = ?1", id);
}

/* When the oldest open twilio campaign with a message still 'sent' (not
 * delivered, failed or expired yet) was sent; 0 if none. */
static int64_t
awaiting_since(sqlite3 *db)
{
	return query_int(db, "SELECT min(coalesce(c.sent_at, c.created_at)) "
			 "FROM campaign c WHERE c.status IN ('sending', "
			 "'sent') AND c.driver = 'twilio' AND EXISTS (SELECT 1 "
			 "FROM message m WHERE m.campaign_id = c.id AND "
			 "m.status = 'sent')", 0);
}

/* Applies one page's messages.  Returns how many, or -1. */
static int64_t
apply_page(struct cn_fetch *f, const cJSON *list, struct cn_err *err)
{
	const cJSON *m;
	int64_t n = 0;

	if (cn_fetch_begin(f, err) < 0)
		return -1;
	cJSON_ArrayForEach(m, list) {
		const char *dir = jstr(m, "direction"), *sid = jstr(m, "sid");
		int64_t at = rfc2822(jstr(m, "date_updated"));
		int r;

		if (!sid || !dir)
			continue;
		if (!strcmp(dir, "inbound")) {
			struct cn_inbound in = {
				.from = jstr(m, "from"),
				.to = jstr(m, "to"),
				.text = jstr(m, "body"),
				.provider_id = sid,
				.at = rfc2822(jstr(m, "date_sent")),
			};

			if (!in.text)
				in.text = "";
			r = cn_fetch_inbound(f, &in, err);
		} else {
			const cJSON *code = cJSON_GetObjectItemCaseSensitive(
				m, "error_code");
			char reason[300] = "";
			struct cn_receipt rc = {
				.provider_id = sid,
				.number = jstr(m, "to"),
				.status = map_status(jstr(m, "status")),
				.kannel_type = -1,
				.at = at,
				.only_changes = 1,
			};

			if (!rc.status)
				continue;	/* receiving, received, ... */
			if (cJSON_IsNumber(code))
				snprintf(reason, sizeof(reason), "%d%s%s",
					 code->valueint,
					 jstr(m, "error_message") ? ": " : "",
					 jstr(m, "error_message")
						 ? jstr(m, "error_message")
						 : "");
			rc.reason = reason[0] ? reason : NULL;
			r = cn_fetch_receipt(f, &rc, err);
		}
		if (r < 0) {
			if (err->code != CN_EDATA) {
				cn_fetch_rollback(f);
				return -1;
			}
			continue;	/* a record we cannot use */
		}
		n++;
	}
	if (cn_fetch_commit(f, err) < 0)
		return -1;
	return n;
}

int64_t
cn_fetch_twilio(struct cn_fetch *f, const struct cn_twilio *tw,
		struct cn_err *err)
{
	const struct cn_fetch_opts *o = cn_fetch_options(f);
	sqlite3 *db = cn_store_db(cn_fetch_store(f));
	char key[128], day[16], url[2048];
	int64_t since, start = cn_now(), total = 0;
	struct cn_buf body;
	CURL *h;
	const char *base = tw->base_url ? tw->base_url
					: "https://api.twilio.com";
	size_t blen = strlen(base);
	int pages = 0, rc = 0;

	while (blen && base[blen - 1] == '/')
		blen--;
	snprintf(key, sizeof(key), "twilio.checkpoint.%s", tw->account_sid);
	if (o->campaign) {
		since = campaign_since(db, o->campaign);
	} else {
		int64_t open;

		if (setting_get(db, key, &since, err) < 0)
			return -1;
		if (!since)
			since = start - o->reply_window_hours * 3600;
		if ((open = awaiting_since(db)) > 0 && open < since)
			since = open;
	}
	since -= 86400;
	{
		time_t t = (time_t)since;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	}
	snprintf(url, sizeof(url),
		 "%.*s/2010-04-01/Accounts/%s/Messages.json?PageSize=100&"
		 "DateSent%%3E=%s", (int)blen, base, tw->account_sid, day);

	h = curl_easy_init();
	if (!h)
		return cn_err_set(err, CN_EINTERNAL, "curl_easy_init failed");
	cn_buf_init(&body, PAGE_MAX);
	curl_easy_setopt(h, CURLOPT_USERNAME, tw->account_sid);
	curl_easy_setopt(h, CURLOPT_PASSWORD, tw->auth_token);
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_TIMEOUT,
			 tw->timeout_s > 0 ? tw->timeout_s : 20L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	for (;;) {
		CURLcode cc;
		long code = 0;
		cJSON *doc, *list, *next;
		int64_t n;

		cn_buf_reset(&body);
		curl_easy_setopt(h, CURLOPT_URL, url);
		cc = curl_easy_perform(h);
		if (cc != CURLE_OK && cn_tls_untrusted(cc)) {
			rc = cn_err_set(err, CN_ENOPERM, "twilio: %.*s: TLS: "
					"the certificate is not trusted (%s)",
					(int)blen, base, curl_easy_strerror(cc));
			break;
		}
		if (cc != CURLE_OK) {
			rc = cn_err_set(err, CN_ETEMP, "twilio: %.*s: %s; try "
					"again later", (int)blen, base,
					curl_easy_strerror(cc));
			break;
		}
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (code == 401 || code == 403) {
			rc = cn_err_set(err, CN_ENOPERM, "twilio: credentials "
					"refused (HTTP %ld) for account %s",
					code, tw->account_sid);
			break;
		}
		if (code == 429 || code >= 500) {
			rc = cn_err_set(err, CN_ETEMP, "twilio: HTTP %ld; try "
					"again later", code);
			break;
		}
		if (code != 200) {
			rc = cn_err_set(err, CN_EUNAVAIL, "twilio: HTTP %ld "
					"for the message list", code);
			break;
		}
		doc = cJSON_ParseWithLength(body.ptr, body.len);
		list = doc ? cJSON_GetObjectItemCaseSensitive(doc, "messages")
			   : NULL;
		if (!cJSON_IsArray(list)) {
			cJSON_Delete(doc);
			rc = cn_err_set(err, CN_EDATA, "twilio: page %d of the "
					"message list is not the documented "
					"JSON (no \"messages\" array)",
					pages + 1);
			break;
		}
		n = apply_page(f, list, err);
		next = cJSON_GetObjectItemCaseSensitive(doc, "next_page_uri");
		if (n >= 0 && cJSON_IsString(next) && next->valuestring[0]) {
			if (next->valuestring[0] == '/')
				snprintf(url, sizeof(url), "%.*s%s", (int)blen,
					 base, next->valuestring);
			else
				snprintf(url, sizeof(url), "%s",
					 next->valuestring);
		} else {
			next = NULL;
		}
		cJSON_Delete(doc);
		if (n < 0) {
			rc = -1;
			break;
		}
		total += n;
		pages++;
		if (!next)
			break;
		if (pages >= 10000) {
			rc = cn_err_set(err, CN_EDATA, "twilio: more than "
					"10000 pages; stopped");
			break;
		}
	}
	curl_easy_cleanup(h);
	cn_buf_free(&body);
	/* the checkpoint moves only after a complete pull (and not for a
	 * pull of one campaign, which looks back further) */
	if (rc == 0 && !o->campaign && !o->dry_run &&
	    setting_set(db, key, start, err) < 0)
		return -1;
	return rc < 0 ? -1 : total;
}
