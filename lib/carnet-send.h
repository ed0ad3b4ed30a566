/*
 * carnet-send.h - campaigns and sending (lib/send.c) through gateway
 * drivers (lib/driver.c).  Included by carnet.h; not to be included on
 * its own.
 *
 * A send has two steps, each its own transactions:
 *
 *  1. cn_campaign_prepare() renders the text of every recipient, drops
 *     duplicates, checks the blacklist, the segment limit, the sender and
 *     the quota, and records the campaign and one message per recipient
 *     (status 'preparing', or 'skipped' for a blacklisted number), all in
 *     one transaction.  Bad input changes nothing.  The quota is reserved
 *     in the same transaction (the usage ledger gets one row for the
 *     campaign), unless the campaign is only saved (a draft) or simulated.
 *
 *  2. cn_campaign_send() sends the campaign's 'preparing' messages.  Each
 *     message is written to the campaign's journal of messages in flight
 *     (the lock file beside the store) before its request leaves, and its
 *     outcome is committed when the gateway answers.  A message found in
 *     flight by a later run (the journal folded into message.inflight_at)
 *     was interrupted (kill -9, power loss) while the gateway was called:
 *     it may or may not have been sent.  It is "in doubt" and is not sent
 *     again unless asked (resend_in_doubt); a receipt for it (applied by
 *     carnet-sms-fetch) settles it.  So is a message whose request went
 *     out but whose answer never came (a timeout, a connection lost while
 *     waiting).  Temporary failures that prove nothing was accepted
 *     (connection refused, 5xx, 429) are retried with backoff; when retries
 *     run out the message is 'failed' with retryable set, and a later run
 *     (carnet-campaign send) sends it again.  Permanent refusals (a
 *     rejected number) are 'failed' for good.  One process sends a
 *     campaign at a time (a lock file beside the store); another one is
 *     refused with CN_ETEMP.
 */
#ifndef CARNET_SEND_H
#define CARNET_SEND_H

/* ---------------------------------------------------------------------
 * Gateway drivers (lib/driver.c)
 */

enum cn_gw_outcome {
	CN_GW_OK = 0,		/* accepted */
	CN_GW_TEMP,		/* temporary: retry later */
	CN_GW_PERM,		/* this message is refused for good */
	CN_GW_AUTH,		/* credentials refused: stop the whole send */
	CN_GW_DOUBT,		/* the request went out, no answer came: it
				   may have been sent (set by the sender; by
				   the kannel driver for a 2xx that is not
				   smsbox's answer) */
};

/* One message as a driver sends it.  Strings are borrowed. */
struct cn_gw_msg {
	const char *ref;	/* carnet's own reference (UUID) */
	const char *to;		/* E.164 */
	const char *from;	/* sender name or number, or NULL */
	const char *text;	/* UTF-8, the text actually sent */
	enum cn_sms_encoding encoding;
	size_t segments;
};

/* What a gateway answered. */
struct cn_gw_result {
	enum cn_gw_outcome outcome;
	long http_status;	/* 0 when no answer came */
	long retry_after;	/* seconds the gateway asked to wait, or 0 */
	char provider_id[128];	/* the gateway's id, "" if none */
	char reason[300];	/* for people, one line; "" when accepted */
};

struct cn_driver;

/*
 * Opens the driver named cfg->sms_driver ("kannel", "twilio", "http",
 * "simulate"), or name when not NULL, reading its settings and secrets
 * (environment, then files, then the config; see cn_secret()).  Returns
 * NULL with err (CN_ECONFIG: no driver configured, a setting missing).
 */
struct cn_driver *cn_driver_open(const struct cn_config *cfg,
				 const char *name, struct cn_err *err);
void cn_driver_close(struct cn_driver *d);
/* "kannel", "twilio", "http", "simulate". */
const char *cn_driver_name(const struct cn_driver *d);
/* 1 if the driver contacts no gateway (simulate). */
int cn_driver_is_simulated(const struct cn_driver *d);
/*
 * Sets up the libcurl easy handle h (a CURL *) to send m: URL, method,
 * headers, body, credentials.  The driver keeps what the request needs
 * in *priv (freed by cn_driver_request_free).  Returns 0, or -1 with err
 * (CN_EDATA: the message cannot be expressed, e.g. a bad template).
 */
int cn_driver_request(struct cn_driver *d, void *h, const struct cn_gw_msg *m,
		      void **priv, struct cn_err *err);
void cn_driver_request_free(void *priv);
/*
 * Classifies an answer: the HTTP status (0 with curl_code set when no
 * answer came), the body, and the Retry-After header's seconds.
 */
void cn_driver_result(struct cn_driver *d, long http_status, int curl_code,
		      const char *curl_error, const char *body, size_t len,
		      long retry_after, struct cn_gw_result *r);

/* ---------------------------------------------------------------------
 * Campaigns (lib/send.c)
 */

/* How a send is asked for.  Strings are borrowed. */
struct cn_send_spec {
	const char *folder;
	const char *user;
	const char *campaign;	/* campaign name; NULL: "<template or
				   'text'> <UTC date and time>" */
	const char *campaign_base;	/* without campaign: the implicit
					   name's first words (NULL: the
					   template's title, else "sms") */
	const char *template_key;	/* id, uuid or title, or NULL */
	const char *text;	/* the text (may hold merge fields) when no
				   template is given */
	const char *sender;	/* NULL: sms.sender */
	const char *list;	/* the list recipients came from, or NULL */
	int transliterate;
	int skip_blacklisted;	/* skip listed numbers (else refuse them) */
	int simulate;		/* record as simulated; no gateway */
	int save;		/* a draft: recorded, not sent, no quota used */
	int dry_run;		/* preview: everything, then roll back */
	int yes;		/* confirmed above the warning threshold */
	const char *driver;	/* the driver's name, recorded */
	const struct cn_config *cfg;
};

/* One recipient's outcome at preparation (callbacks; borrowed). */
struct cn_prep_row {
	long line;		/* input line, 0 if none */
	const char *ref;	/* message reference, NULL if not recorded */
	const char *to;		/* E.164 */
	const char *text;
	enum cn_sms_encoding encoding;
	size_t segments;
	const char *status;	/* preparing, simulated, skipped, duplicate */
	const char *error;	/* why skipped, or NULL */
};
typedef int (*cn_prep_fn)(void *ctx, const struct cn_prep_row *r);

struct cn_prep_stats {
	int64_t campaign_id;	/* 0 in a dry run */
	char campaign_uuid[37];
	char campaign_name[256];
	int64_t recipients;	/* messages to send */
	int64_t sms;		/* segments over them */
	int64_t skipped;	/* blacklisted */
	int64_t duplicates;	/* same number twice in the input */
	int64_t gsm7, ucs2;	/* messages per encoding */
	struct cn_quota_verdict quota;	/* the quota's verdict */
	int quota_checked;
};

/* Errors found in the input: line and message (see errors_fn). */
typedef void (*cn_prep_err_fn)(void *ctx, long line, const char *msg);

/*
 * Prepares a campaign for the records of rd (each a recipient: "phone"
 * and any merge fields; "id" links the message to that contact), as
 * described at the top of this file.  Every invalid record (a bad or
 * missing phone, a missing merge field, a text over sms.max_segments) is
 * reported through on_error and makes the whole preparation fail with
 * CN_EDATA, writing nothing.  Over quota (block mode): CN_ECHECK with
 * stats->quota.reason, nothing written.  Above the warning threshold or
 * over a quota in warn mode without spec->yes: CN_ECHECK too, with
 * stats->quota.warn set, so that the caller can ask and call again.
 * on_row (may be NULL) sees every recipient.  Returns 0 or -1.
 */
int cn_campaign_prepare(struct cn_store *st, struct cn_reader *rd,
			const struct cn_send_spec *spec, cn_prep_fn on_row,
			cn_prep_err_fn on_error, void *ctx,
			struct cn_prep_stats *stats, struct cn_err *err);

/* How to send. */
struct cn_send_opts {
	int parallel;		/* requests in flight (1..64; 0: 4) */
	double rate;		/* requests per second at most (0: no limit) */
	int retries;		/* temporary failures retried (0: none; <0: 3) */
	double backoff;		/* first backoff in seconds (0: 0.5) */
	long timeout_s;		/* HTTP timeout (0: 20) */
	int resend_in_doubt;	/* send in-doubt messages again */
	int retry_failed;	/* send retryable failed messages again
				   (resume does) */
	volatile int *stop;	/* set by a signal: stop after the requests
				   in flight */
};

/* One message's outcome (callbacks; borrowed). */
struct cn_sent_row {
	const char *campaign;	/* campaign uuid */
	const char *ref;
	const char *to;
	const char *status;	/* sent, simulated, failed, preparing (in
				   doubt or interrupted) */
	enum cn_sms_encoding encoding;
	size_t segments;
	const char *provider_id;	/* NULL if none */
	const char *error;	/* NULL if none */
	int attempts;
};
typedef int (*cn_sent_fn)(void *ctx, const struct cn_sent_row *r);

struct cn_send_stats {
	int64_t sent;		/* accepted by the gateway (or simulated) */
	int64_t failed;		/* refused for good */
	int64_t retryable;	/* temporary failures left for a later run */
	int64_t in_doubt;	/* interrupted in flight, not resent */
	int64_t untried;	/* left 'preparing' (stopped, gateway down) */
	int64_t retries;	/* requests retried */
	int auth_failed;	/* the gateway refused the credentials */
	int interrupted;	/* stopped by *stop */
	double seconds;
	char last_error[300];
};

/*
 * Sends the 'preparing' messages of campaign id through driver d (see the
 * top of this file), moving the campaign from draft to sending (reserving
 * the quota then; CN_ECHECK if over) and to sent when every message has
 * an outcome (close_at: sms.campaign_close_hours later).  Returns 0 when
 * every message was handled (some may have failed for good), -1 with err:
 * CN_ETEMP when messages are left to a later run (gateway down, retries
 * exhausted, stopped), CN_ENOPERM when the gateway refused the
 * credentials, CN_ECHECK when the campaign is closed or over quota.
 */
int cn_campaign_send(struct cn_store *st, const struct cn_config *cfg,
		     int64_t campaign_id, struct cn_driver *d,
		     const struct cn_send_opts *o, cn_sent_fn on_sent,
		     void *ctx, struct cn_send_stats *stats,
		     struct cn_err *err);

/* A campaign as ls and show give it. */
struct cn_campaign_info {
	int64_t id;
	char uuid[37];
	char folder[128];
	char user[128];		/* "" if none */
	char name[256];
	char template_title[128];	/* "" if none */
	char list[256];		/* "" if none */
	char sender[64];	/* "" if none */
	char status[16];	/* draft, sending, sent, closed */
	int simulated;
	char driver[16];
	int64_t created_at, sent_at, close_at, closed_at;	/* 0: not yet */
	int64_t messages, preparing, in_doubt, sent, delivered, failed,
		expired, rejected, skipped, simulated_n, segments, replies,
		optouts;
};

/* Finds a campaign by id (digits), uuid or exact name (in folder, or any
 * when NULL).  Returns its id, or 0 with err (CN_ENOINPUT; CN_EUSAGE when
 * a name is ambiguous). */
int64_t cn_campaign_find(struct cn_store *st, const char *key,
			 const char *folder, struct cn_err *err);
int cn_campaign_get(struct cn_store *st, int64_t id,
		    struct cn_campaign_info *ci, struct cn_err *err);
typedef int (*cn_campaign_fn)(void *ctx, const struct cn_campaign_info *ci);
/* Calls fn for each campaign of folder (NULL: all) with status (NULL:
 * any), newest first. */
int cn_campaigns_each(struct cn_store *st, const char *folder,
		      const char *status, cn_campaign_fn fn, void *ctx,
		      struct cn_err *err);
/*
 * Closes a campaign: status closed, closed_at now.  A campaign with
 * messages still to send (or in doubt) is refused unless force (they
 * are then marked failed, "campaign closed").  Returns 0, 1 if it was
 * already closed, or -1 with err.
 */
int cn_campaign_close(struct cn_store *st, int64_t id, int force,
		      struct cn_err *err);

/* One message as `carnet-campaign messages` and conversations list it. */
struct cn_message_info {
	int64_t id;
	const char *ref;
	const char *campaign;	/* uuid */
	const char *campaign_name;
	const char *to;
	const char *sender;
	const char *body;
	const char *encoding;
	int64_t segments;
	const char *status;	/* 'in-doubt' for a preparing message that
				   was interrupted in flight */
	const char *provider_id;
	const char *error;
	int64_t attempts;
	int64_t created_at, sent_at, done_at;
};
typedef int (*cn_message_fn)(void *ctx, const struct cn_message_info *m);
/* Messages of a campaign, in order; status (NULL: any) filters. */
int cn_campaign_messages(struct cn_store *st, int64_t id, const char *status,
			 cn_message_fn fn, void *ctx, struct cn_err *err);

/* One line of a conversation with a number (callbacks; borrowed). */
struct cn_conv_line {
	const char *kind;	/* "sent" (a message to the number) or the
				   reply's kind: reply, optout, optin,
				   unsolicited */
	int64_t at;		/* sent (or created) / received, Unix time */
	int64_t campaign_id;	/* 0 if none */
	const char *campaign;	/* its name, NULL if none */
	const char *ref;	/* the message's reference (sent), or the
				   message a reply answers, or NULL */
	const char *text;
	const char *status;	/* the message's status; NULL for replies */
};
typedef int (*cn_conv_fn)(void *ctx, const struct cn_conv_line *l);
/*
 * Every message sent to phone (E.164) and every reply from it, oldest
 * first (skipped messages are left out).  Returns the number of lines,
 * or -1 with err.
 */
int64_t cn_conversation(struct cn_store *st, const char *phone,
			cn_conv_fn fn, void *ctx, struct cn_err *err);

#endif
