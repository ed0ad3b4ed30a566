/*
 * carnet-quota.h - SMS quotas and the usage ledger.  See lib/quota.c.
 * Included by carnet.h; not to be included on its own.
 *
 * A quota limits what one user may send, per send and per month, counted
 * in SMS (segments x recipients: a 2-SMS text to 4 recipients counts 8)
 * and in recipients.  It is stored as rows of the quota table, each with a
 * scope (one folder, or common to all folders) and a target (one user, or
 * the default row that applies to every user without a row of their own).
 *
 * The quota of a user in a folder is the first of these rows that exists:
 *
 *	1. the user's row for the folder
 *	2. the user's common row
 *	3. the default row of the folder
 *	4. the common default row
 *
 * A user row of kind CN_QUOTA_DEFAULT ("follow the default") skips to 3.
 * When none applies, no quota is active and only the warning threshold
 * (sms.warn_threshold) can warn about a large send.
 *
 * Monthly usage comes from the append-only usage ledger (one row per send
 * or per message: sms, recipients, month "YYYY-MM" in UTC, folder, user).
 * It is counted in the scope of the row that holds the limits: the
 * user's usage in that folder for a folder row, in every folder for a
 * common row.  Months are computed in UTC from cn_now(), so $CARNET_NOW
 * fixes them for tests.
 */
#ifndef CARNET_QUOTA_H
#define CARNET_QUOTA_H

/* What a quota row says. */
enum cn_quota_kind {
	CN_QUOTA_NONE = 0,	/* no row (effective quota: none active) */
	CN_QUOTA_DEFAULT,	/* user row: follow the default quota;
				   default row: its limits */
	CN_QUOTA_SPECIFIC,	/* user row: the user's own limits */
	CN_QUOTA_FORBIDDEN,	/* no sending at all (always blocks) */
	CN_QUOTA_UNLIMITED,	/* no limit */
};

/* Over a limit: refuse the send, or let it go with a warning. */
enum cn_quota_mode {
	CN_QUOTA_BLOCK = 0,
	CN_QUOTA_WARN,
};

/* The four limits, in this order everywhere (arrays of CN_QL_N). */
enum cn_quota_limit {
	CN_QL_SEND_SMS = 0,	/* SMS in one send */
	CN_QL_SEND_RECIPIENTS,	/* recipients of one send */
	CN_QL_MONTH_SMS,	/* SMS in a month */
	CN_QL_MONTH_RECIPIENTS,	/* recipients in a month */
	CN_QL_N
};

#define CN_QUOTA_NOLIMIT (-1)	/* a limit that is not set */
#define CN_QUOTA_KEEP (-2)	/* cn_quota_set: leave this limit as it is */
/* The largest count accepted anywhere (limits, SMS, recipients), so that
 * sums never overflow. */
#define CN_QUOTA_MAX INT64_C(1000000000000)

/* "default", "specific", "forbidden", "unlimited" (as stored), "none". */
const char *cn_quota_kind_name(enum cn_quota_kind k);
/* "block" or "warn"; parse returns 0, or -1 (out untouched) if unknown. */
const char *cn_quota_mode_name(enum cn_quota_mode m);
int cn_quota_mode_parse(const char *s, enum cn_quota_mode *out);
/* "per_send_sms", "per_send_recipients", "per_month_sms",
 * "per_month_recipients": the column names. */
const char *cn_quota_limit_name(enum cn_quota_limit l);

/* Writes the month of Unix time t ("2026-11", UTC) into out[8]. */
void cn_quota_month(int64_t t, char out[8]);
/* Writes the current month (UTC; $CARNET_NOW fixes the clock) into
 * out[8]. */
void cn_quota_month_now(char out[8]);
/* Returns 1 if s is a month "YYYY-MM" (year 1970 to 9999, month 01 to
 * 12), else 0. */
int cn_quota_month_valid(const char *s);

/* ---------------------------------------------------------------------
 * Quota rows
 */

struct cn_quota_rule {
	char folder[256];	/* "" for a common row */
	char user[256];		/* "" for the default row */
	enum cn_quota_kind kind;
	enum cn_quota_mode mode;	/* meaningful only for rows with limits
					   (block for forbidden rows) */
	int64_t limit[CN_QL_N];	/* CN_QUOTA_NOLIMIT when not set; all not
				   set unless the row has limits */
	int64_t updated_at;	/* Unix seconds; 0 for a rule not stored */
};

/* 1 if a rule of this kind on this target holds limits: a specific user
 * row, or the default row of kind CN_QUOTA_DEFAULT. */
int cn_quota_has_limits(enum cn_quota_kind kind, int default_row);

/*
 * Writes into buf (cap bytes, always NUL-terminated) what r says, for
 * people: "per send 200 SMS; per month 5,000 SMS and 300 recipients;
 * block", "forbidden", "unlimited", "the default quota".
 */
void cn_quota_rule_text(const struct cn_quota_rule *r, char *buf, size_t cap);
/* Writes "the default quota, common to all folders", "the quota of user
 * JK in folder F", ... into buf. */
void cn_quota_rule_where(const struct cn_quota_rule *r, char *buf,
			 size_t cap);

/* What cn_quota_set() changes.  Fields are borrowed. */
struct cn_quota_change {
	const char *folder;	/* NULL: the common row */
	const char *user;	/* NULL: the default row */
	/*
	 * CN_QUOTA_NONE: not given; then limits make it specific (user row)
	 * or default (default row), else the row keeps its kind.  A user
	 * row takes any kind; the default row takes CN_QUOTA_DEFAULT (its
	 * limits), CN_QUOTA_UNLIMITED or CN_QUOTA_FORBIDDEN.
	 */
	enum cn_quota_kind kind;
	/* a value in [0, CN_QUOTA_MAX], CN_QUOTA_NOLIMIT to remove the
	 * limit, or CN_QUOTA_KEEP to keep what the row has */
	int64_t limit[CN_QL_N];
	int mode;	/* an enum cn_quota_mode, or -1: keep the row's, and for
			   a new row default_mode */
	enum cn_quota_mode default_mode;	/* quota.mode of the config */
	int dry_run;	/* do everything, then roll back */
};

/* Initialises a change that changes nothing: every limit CN_QUOTA_KEEP,
 * kind CN_QUOTA_NONE, mode -1. */
void cn_quota_change_init(struct cn_quota_change *c);

/*
 * Checks what can be checked in a change without the store (the limits'
 * range, the kind for the target, limits or --mode where they do not
 * apply).  cn_quota_set() calls it too.  Returns 0, or -1 with err
 * (CN_EUSAGE).
 */
int cn_quota_change_check(const struct cn_quota_change *c,
			  struct cn_err *err);

enum cn_quota_action {
	CN_QUOTA_CREATED = 1,	/* a new row */
	CN_QUOTA_UPDATED,	/* the row changed */
	CN_QUOTA_UNCHANGED,	/* the row already said that */
	CN_QUOTA_REMOVED,	/* cn_quota_remove() */
};

/*
 * Creates or changes one quota row, in one write transaction (BEGIN
 * IMMEDIATE), creating the folder and the user if needed.  Limits that
 * are given replace the row's; the others are kept when the row already
 * holds limits, and unset otherwise.  Switching a row to unlimited,
 * forbidden or (user row) default removes its limits; a forbidden row
 * always blocks.
 *
 * *out (may be NULL) receives the row as stored (or as it would be, dry
 * run), *action (may be NULL) what happened.  Returns 0, or -1 with err
 * and the store unchanged: CN_EUSAGE when the change does not make sense
 * (limits with --unlimited, forbidden or default; a specific or default
 * quota without any limit; --mode on a row without limits; a limit
 * outside [0, CN_QUOTA_MAX]; a default row asked to be specific),
 * CN_ETEMP when the store stays busy.
 */
int cn_quota_set(struct cn_store *st, const struct cn_quota_change *c,
		 struct cn_quota_rule *out, enum cn_quota_action *action,
		 struct cn_err *err);

/*
 * Removes the row of (folder, user) (NULL: common / the default row); the
 * quota then falls to the next row in the order above.  *out (may be
 * NULL) receives the row removed.  Returns 0, or -1 with err: CN_ENOINPUT
 * when there is no such row (store unchanged).
 */
int cn_quota_remove(struct cn_store *st, const char *folder,
		    const char *user, int dry_run, struct cn_quota_rule *out,
		    struct cn_err *err);

typedef int (*cn_quota_rule_fn)(void *ctx, const struct cn_quota_rule *r);

/*
 * Calls fn for each quota row; folder (NULL: any) and user (NULL: any)
 * filter by name; common_only keeps only the common rows.  Ordered by
 * folder (common first), then user (the default row first).  Stops early,
 * returning 0, when fn returns non-zero.  Returns 0 or -1 with err.
 */
int cn_quota_each(struct cn_store *st, const char *folder, const char *user,
		  int common_only, cn_quota_rule_fn fn, void *ctx,
		  struct cn_err *err);

/* ---------------------------------------------------------------------
 * The effective quota, checks and the ledger
 */

struct cn_quota_effective {
	enum cn_quota_kind kind;	/* NONE (no row applies), DEFAULT (the
					   default row's limits), SPECIFIC,
					   FORBIDDEN, UNLIMITED */
	enum cn_quota_mode mode;
	int64_t limit[CN_QL_N];
	int known_user;		/* the user exists in the store */
	int from_user;		/* a row of the user's decided */
	int user_default;	/* the user's row says "follow the default" */
	int has_scope;		/* a row decided: scope below is set */
	int common;		/* the deciding row is common to all folders
				   (monthly usage counts every folder) */
	struct cn_quota_rule rule;	/* the row that decided (the default
					   row when the user follows it) */
	char source[640];	/* for people: "user JK in folder F", "default
				   quota, common to all folders", "no quota" */
};

/*
 * Finds the quota that applies to user in folder, by the order above.
 * Changes nothing (an unknown user or folder is not created: its quota
 * is the default one, and known_user says so).  Returns 0, or -1 with err.
 */
int cn_quota_effective(struct cn_store *st, const char *folder,
		       const char *user, struct cn_quota_effective *q,
		       struct cn_err *err);

/* One send, as the checks and the ledger see it.  Strings are borrowed. */
struct cn_quota_req {
	const char *folder;
	const char *user;
	int64_t sms;		/* segments x recipients */
	int64_t recipients;
	const char *month;	/* "YYYY-MM", or NULL: this month (UTC) */
	int64_t warn_threshold;	/* sms.warn_threshold; 0: none */
	int64_t campaign_id;	/* ledger row's campaign, 0: none */
	int64_t message_id;	/* ledger row's message, 0: none */
	int dry_run;		/* reserve, append: roll back at the end */
};

/* One limit that the send goes over. */
struct cn_quota_over {
	enum cn_quota_limit limit;
	int64_t max;		/* the limit */
	int64_t used;		/* the month's usage before the send (0 for
				   per-send limits) */
	int64_t asked;		/* this send */
	int64_t by;		/* used + asked - max */
};

enum cn_quota_status {
	CN_QUOTA_OK = 0,	/* within the quota */
	CN_QUOTA_WARNED,	/* may go, with a warning: over a quota in
				   warn mode, or above the warning
				   threshold */
	CN_QUOTA_OVER,		/* refused: over a quota in block mode, or
				   forbidden */
};

struct cn_quota_verdict {
	enum cn_quota_status status;
	int allowed;		/* status != CN_QUOTA_OVER */
	int warn;		/* status == CN_QUOTA_WARNED */
	int threshold;		/* above the warning threshold (only when
				   no quota is active or it is unlimited) */
	int forbidden;
	char month[8];
	int64_t used_sms;	/* the month's usage before the send, in the
				   scope of the quota (the folder asked when
				   no quota has a scope) */
	int64_t used_recipients;
	struct cn_quota_effective quota;
	struct cn_quota_over over[CN_QL_N];	/* the limits gone over, in
						   limit order */
	size_t nover;
	int64_t ledger_id;	/* reserve, append: the ledger row written
				   (0: none, or dry run) */
	char reason[512];	/* the first problem, one line: "over the
				   monthly SMS quota of user JK in folder F:
				   4,996 + 8 > 5,000 (by 4)"; "" when ok */
};

/*
 * Writes into buf (cap bytes) the sentence for v->over[i], i < v->nover,
 * as v->reason has it for the first.  (A forbidden user and the warning
 * threshold come with no over[] entries: v->reason says them.)
 */
void cn_quota_over_text(const struct cn_quota_verdict *v,
			const struct cn_quota_req *req, size_t i, char *buf,
			size_t cap);

/*
 * Checks one send against the user's quota and this month's usage, and
 * the warning threshold; writes nothing.  Works inside or outside the
 * caller's transaction (outside, it reads one consistent snapshot).
 * Fills *v whenever the quota could be read.  Returns 0 when the send
 * may go (v->status OK or WARNED), -1 with err CN_ECHECK and v->reason
 * when it is refused, -1 with another code on errors (CN_EUSAGE: a count
 * outside [0, CN_QUOTA_MAX], a bad month).
 *
 * A check is only advice: another send may use the quota before this one
 * is recorded.  A sender uses cn_quota_reserve().
 */
int cn_quota_check(struct cn_store *st, const struct cn_quota_req *req,
		   struct cn_quota_verdict *v, struct cn_err *err);

/*
 * Checks one send as cn_quota_check() does and, only if it may go,
 * appends its row to the usage ledger (folder and user created if
 * needed), under one write lock, so that two concurrent sends cannot both
 * slip under a limit.  v->ledger_id is the row written.
 *
 * Transactions: when the caller has no transaction open on st, this runs
 * in its own (BEGIN IMMEDIATE ... COMMIT).  A sender that records its
 * messages and their usage together calls it inside its own write
 * transaction (opened with BEGIN IMMEDIATE, or one that has already
 * written): the check and the row then run in a savepoint and commit or
 * roll back with the caller's transaction, and the write lock is held
 * from the check to the caller's COMMIT.  A caller's transaction that has
 * not written yet (a plain BEGIN) is refused with CN_EINTERNAL: its
 * snapshot could be stale.  On a refusal or an error, nothing is written
 * and the caller's transaction stays open and usable.
 *
 * Returns 0 (appended; v->status OK or WARNED), -1 with CN_ECHECK when
 * refused, -1 with another code on errors (CN_ETEMP: the store stayed
 * busy).  With req->dry_run everything runs and is rolled back.
 */
int cn_quota_reserve(struct cn_store *st, const struct cn_quota_req *req,
		     struct cn_quota_verdict *v, struct cn_err *err);

/*
 * Appends one ledger row without any check: corrections (negative counts
 * are allowed, as long as the month's usage of that user in that folder
 * does not fall below zero) and senders that already checked under their
 * own write transaction (cn_quota_check() then cn_quota_append() in one
 * BEGIN IMMEDIATE transaction is as safe as cn_quota_reserve()).  The
 * same transaction rules as cn_quota_reserve().  *ledger_id (may be NULL)
 * receives the row's id (0 in a dry run).  Returns 0, or -1 with err
 * (CN_EDATA: the usage would become negative; CN_EUSAGE: a count outside
 * [-CN_QUOTA_MAX, CN_QUOTA_MAX], a bad month).
 */
int cn_quota_append(struct cn_store *st, const struct cn_quota_req *req,
		    int64_t *ledger_id, struct cn_err *err);

/*
 * Fills rec (initialised by the caller; reset first) with the verdict as
 * one record, for JSON, CSV or table output: folder, user, month, sms,
 * recipients, status ("ok", "warn", "over"), allowed, warn, threshold,
 * kind, mode, source, known_user, the four limits (null when not set),
 * used_sms, used_recipients, reason (null when ok) and over (a JSON array
 * of {"limit","max","used","asked","by"}).  Returns 0 or -1 (memory).
 */
int cn_quota_verdict_record(const struct cn_quota_verdict *v,
			    const struct cn_quota_req *req,
			    struct cn_record *rec);

/* One line of cn_quota_usage(); strings valid during the callback only. */
struct cn_quota_usage_row {
	const char *month;
	const char *folder;
	const char *user;	/* NULL for ledger rows without a user */
	int64_t sms;
	int64_t recipients;
};

typedef int (*cn_quota_usage_fn)(void *ctx,
				 const struct cn_quota_usage_row *r);

/*
 * Calls fn with the ledger's sums per month, folder and user, ordered by
 * month, folder and user; month (NULL: every month), folder and user
 * (NULL: any) filter by name; an unknown name gives no rows.  Stops
 * early, returning 0, when fn returns non-zero.  Returns 0 or -1 with err.
 */
int cn_quota_usage(struct cn_store *st, const char *month,
		   const char *folder, const char *user, cn_quota_usage_fn fn,
		   void *ctx, struct cn_err *err);

#endif
