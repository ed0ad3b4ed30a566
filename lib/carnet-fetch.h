/*
 * carnet-fetch.h - what comes back after a send: delivery receipts,
 * replies, STOP and START, campaign closing (lib/fetch.c), the Kannel
 * callback parser (lib/fetch-kannel.c), the Twilio pull
 * (lib/fetch-twilio.c) and the callback receiver (lib/fetch-listen.c).
 * Included by carnet.h; not to be included on its own.
 *
 * Rules (issue 6):
 *  - a receipt moves a message from preparing or sent to delivered,
 *    failed, expired or rejected, never backwards: once final, a message
 *    keeps its status; intermediate receipts (buffered, accepted by the
 *    SMSC) only say that a message in doubt (preparing) was sent;
 *  - receipts for unknown references are stored with message_id NULL and
 *    reported through on_note, nothing else changes;
 *  - a reply is attached to the latest message sent to that number when
 *    it arrives within the reply window (the template's reply handling,
 *    else sms.reply_window_hours); later ones are stored as unsolicited;
 *  - STOP and its variants blacklist the number (reason STOP); START
 *    lifts only a STOP entry; after npai_failures permanent failures in a
 *    row (failed or rejected, since the last delivered message) the
 *    number is blacklisted as NPAI;
 *  - a campaign collects receipts and replies until it is closed; those
 *    that arrive later are stored "held" (the message unchanged, the
 *    reply not counted) until a fetch for that campaign
 *    (cn_fetch_opts.campaign) applies them.
 */
#ifndef CARNET_FETCH_H
#define CARNET_FETCH_H

enum cn_event_kind {
	CN_EV_RECEIPT = 0,	/* a message changed status */
	CN_EV_REPLY,		/* a reply (attached or unsolicited) */
	CN_EV_OPTOUT,		/* STOP, or NPAI after failures */
	CN_EV_OPTIN,		/* START */
	CN_EV_CLOSED,		/* a campaign was closed */
};

/* "receipt", "reply", "optout", "optin", "closed". */
const char *cn_event_kind_name(enum cn_event_kind k);

/* One event, as printed: strings are borrowed for the callback only. */
struct cn_event {
	enum cn_event_kind kind;
	int64_t time;		/* when it happened (receipt or reply time,
				   close time) */
	int64_t campaign;	/* campaign id, 0 if none */
	const char *message;	/* the message's ref, NULL if none */
	const char *number;	/* E.164 when it could be normalised */
	const char *status;	/* receipt: the new status; reply: "reply"
				   or "unsolicited"; optout: "STOP" or
				   "NPAI"; optin: "lifted" or "kept";
				   closed: "closed" */
	const char *text;	/* reply text, or the gateway's reason */
};

typedef int (*cn_event_fn)(void *ctx, const struct cn_event *ev);
/* A note for the log (unknown reference, duplicate, held): one line. */
typedef void (*cn_note_fn)(void *ctx, const char *msg);

/* The columns of an event record, in order, and their number. */
extern const char *const cn_event_columns[];
extern const size_t cn_event_ncolumns;

/* Appends ev to r as the columns above (time in ISO 8601 UTC).
 * Returns 0 or -1 (out of memory). */
int cn_event_to_record(const struct cn_event *ev, struct cn_record *r);

struct cn_fetch_opts {
	const struct cn_phone_rules *phone;	/* to normalise numbers */
	long reply_window_hours;	/* default window (48) */
	long npai_failures;		/* 0: never */
	int64_t campaign;	/* also apply to this campaign when closed,
				   and apply what it holds (0: none) */
	const char *source;	/* "sms-fetch" for blacklist entries */
	int dry_run;		/* cn_fetch_commit() rolls back, and still
				   reports the events that would have been */
	cn_event_fn on_event;	/* called after each commit, per event */
	cn_note_fn on_note;
	void *ctx;
};

struct cn_fetch;

/*
 * Opens a fetch context on st (borrowed; must outlive it) with opts
 * (copied; the strings and rules borrowed).  Returns NULL with err.
 */
struct cn_fetch *cn_fetch_open(struct cn_store *st,
			       const struct cn_fetch_opts *opts,
			       struct cn_err *err);
void cn_fetch_close(struct cn_fetch *f);
/* The store and the options f was opened with (borrowed). */
struct cn_store *cn_fetch_store(struct cn_fetch *f);
const struct cn_fetch_opts *cn_fetch_options(struct cn_fetch *f);

/*
 * Transactions: cn_fetch_begin() starts one (BEGIN IMMEDIATE; CN_ETEMP
 * when the store is busy); the apply calls below write inside it and
 * queue their events; cn_fetch_commit() commits and then hands the
 * queued events to on_event; cn_fetch_rollback() drops them.  An apply
 * call made outside a transaction runs in one of its own.
 */
int cn_fetch_begin(struct cn_fetch *f, struct cn_err *err);
int cn_fetch_commit(struct cn_fetch *f, struct cn_err *err);
void cn_fetch_rollback(struct cn_fetch *f);

/*
 * Bounds on what arrives: a message reference (carnet's are UUIDs;
 * letters, digits, '-', '_', '.' and ':' only), the text of a reply
 * (10,000 bytes: 65 parts of a concatenated SMS in GSM 7-bit, many times
 * what handsets send), and the parameters of one gateway callback.
 */
#define CN_FETCH_REF_MAX 64
#define CN_FETCH_TEXT_MAX 10000
#define CN_CALLBACK_MAX_PARAMS 32

/* A delivery receipt, from any driver.  Strings borrowed. */
struct cn_receipt {
	const char *ref;	/* carnet's message reference, or NULL */
	const char *provider_id;	/* the provider's id (Twilio sid) */
	const char *number;	/* the handset, if known */
	const char *status;	/* delivered, failed, expired, rejected,
				   buffered, accepted, sent; NULL when
				   kannel_type says it */
	int kannel_type;	/* Kannel's dlr type bit mask, -1 if none */
	const char *reason;	/* the gateway's text (%A), or NULL */
	int64_t at;		/* 0: now */
	int only_changes;	/* pulls: store nothing unless the message
				   moves (a listing repeats statuses) */
};

/* An inbound message (MO).  Strings borrowed; text is UTF-8. */
struct cn_inbound {
	const char *from;	/* the handset */
	const char *to;		/* our number, or NULL */
	const char *text;
	const char *provider_id;	/* duplicates of an id are ignored */
	int64_t at;		/* 0: now */
};

/*
 * Applies a receipt: stores it and moves the message as the rules say
 * (a well-formed reference that no message holds is stored, not
 * applied).  Returns 0, or -1 with err: CN_EDATA for a receipt that
 * says nothing (no reference and no provider id, an unknown status) or
 * whose reference is malformed or longer than CN_FETCH_REF_MAX --
 * nothing written; any other error leaves the transaction to be rolled
 * back.
 */
int cn_fetch_receipt(struct cn_fetch *f, const struct cn_receipt *r,
		     struct cn_err *err);
/* Applies an inbound message: STOP/START, else a reply.  Returns 0, or
 * -1 with err (CN_EDATA: no sender, a sender that is not a phone number,
 * text not UTF-8 or over CN_FETCH_TEXT_MAX bytes; nothing written). */
int cn_fetch_inbound(struct cn_fetch *f, const struct cn_inbound *in,
		     struct cn_err *err);
/*
 * Reads events from rd (CSV or NDJSON) and applies them: a record with
 * kind "receipt" (ref or provider_id, status or type, number, reason,
 * time) or "reply" (number or from, text, to, provider_id, time); a
 * record without kind is a receipt when it has ref, type or status,
 * else a reply.  time: Unix seconds or ISO 8601.  A CSV header that
 * names none of these columns is an error (CN_EDATA).  All inside the
 * caller's transaction.  Returns the number of records applied, or -1
 * with err naming the input line.
 */
int64_t cn_fetch_read(struct cn_fetch *f, struct cn_reader *rd,
		      struct cn_err *err);
/*
 * Applies what the campaign given in the options holds (receipts and
 * replies that arrived after it closed).  Returns how many, or -1.
 */
int64_t cn_fetch_apply_held(struct cn_fetch *f, struct cn_err *err);
/*
 * Closes the campaigns in status sent whose close_at has passed (and
 * sending ones whose messages are all done), with an event each.
 * Returns how many, or -1 with err.
 */
int64_t cn_fetch_close_due(struct cn_fetch *f, struct cn_err *err);
/* Returns 1 if campaign id exists, 0 if not, -1 with err. */
int cn_fetch_campaign_exists(struct cn_fetch *f, int64_t id,
			     struct cn_err *err);

/*
 * Whether text is an opt-out (1: STOP, STOP SMS, ARRET, ARRÊT, any case,
 * accents and surrounding punctuation), an opt-in (2: START, START SMS)
 * or neither (0).
 */
int cn_sms_keyword(const char *text);

/* ---------------------------------------------------------------------
 * Kannel callbacks (lib/fetch-kannel.c)
 */

/*
 * Applies one Kannel callback given as its URL query string (the part
 * after '?', still URL-encoded) or an application/x-www-form-urlencoded
 * body.  A delivery report (dlr-url: ref=, type=%d, p=%p handset,
 * P=%P, ts=%T, A=%A) or an MO (sms-service get-url: p=%p or from=
 * the handset, P=%P or to=, text=%a, C=%C or charset=, ts=%T or time=,
 * I=%I or id=).
 * The token parameter t is not looked at here (see cn_listen).
 * Returns 0, or -1 with err (CN_EDATA when it is neither, or has more
 * than CN_CALLBACK_MAX_PARAMS parameters, an invalid %-escape, or a
 * time that is not Unix seconds).
 */
int cn_fetch_kannel(struct cn_fetch *f, const char *query, size_t len,
		    struct cn_err *err);

/* Decodes one application/x-www-form-urlencoded value ('+' is a space)
 * into out (NUL-terminated, at most cap - 1 bytes).  Returns 0, or -1
 * when it does not fit, holds a NUL byte or a '%' without two hex
 * digits after it. */
int cn_url_decode(const char *s, size_t len, char *out, size_t cap);

/* ---------------------------------------------------------------------
 * Twilio pull (lib/fetch-twilio.c)
 */

struct cn_twilio {
	const char *base_url;	/* "https://api.twilio.com" */
	const char *account_sid;
	const char *auth_token;	/* the secret */
	long timeout_s;		/* 0: 20 */
};

/*
 * Lists the account's messages sent since the checkpoint kept in the
 * store (setting "twilio.checkpoint.<sid>"; none: the last reply window)
 * page by page (next_page_uri), applies outbound statuses as receipts
 * (by sid) and inbound messages as replies, each page in one
 * transaction, and moves the checkpoint.  Returns the number of records
 * seen, or -1 with err: CN_ETEMP when the provider is unreachable or
 * answers 5xx/429, CN_ENOPERM for 401/403, CN_EDATA for an answer that
 * is not the documented JSON.
 */
int64_t cn_fetch_twilio(struct cn_fetch *f, const struct cn_twilio *tw,
			struct cn_err *err);

/* ---------------------------------------------------------------------
 * The callback receiver (lib/fetch-listen.c)
 */

struct cn_listen_opts {
	const char *address;	/* "127.0.0.1:13080", "[::1]:13080",
				   "*:13080" (every interface) */
	const char *token;	/* required in parameter t (NULL: none) */
	long max_body;		/* bytes of a query or body (8192) */
	long rate;		/* callbacks per second, 0: no limit */
	const char *ready_file;	/* written with the port once listening */
};

/*
 * Serves Kannel callbacks (GET with parameters, a form POST, or Kannel's
 * post-url: text body with X-Kannel-From/To headers and the charset in
 * Content-Type) with libmicrohttpd until *stop becomes
 * non-zero (checked every 100 ms): each one is written to the store in
 * its own transaction (through f) before the answer, 200 "ok"; 403 for
 * a missing or wrong token (compared in constant time), nothing stored;
 * 400 for a callback that is neither a receipt nor an MO or that
 * cn_fetch_kannel() refuses (a malformed ref, sender number, time or
 * %-escape); 413 for one over max_body bytes or CN_CALLBACK_MAX_PARAMS
 * parameters, 431 for headers over max_body bytes; 429 over the rate;
 * 503 when the store is busy.  f's events
 * go to on_event from the serving thread (one at a time).
 * Returns 0 after a stop, or -1 with err (CN_EUSAGE: bad address,
 * CN_EUNAVAIL: cannot bind).
 */
int cn_listen(struct cn_fetch *f, const struct cn_listen_opts *o,
	      volatile int *stop, struct cn_err *err);

#endif
