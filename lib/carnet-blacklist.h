/*
 * carnet-blacklist.h - the blacklist (opt-outs): numbers and addresses
 * that must not be sent to, with their reason.  See lib/blacklist.c.
 * Included by carnet.h; not to be included on its own.
 *
 * The blacklist is global to the store (not per folder).  An address is
 * an E.164 number ("+33612345678") or an email address, as
 * cn_blacklist_normalize() writes them; every function below that takes
 * an address expects that form.
 *
 * Reasons, from the weakest to the strongest: manual (an operator's
 * choice), NPAI (undeliverable), STOP (the person opted out).  Adding an
 * entry for an address that is already listed keeps the stronger reason:
 * a STOP over a manual or NPAI entry upgrades it, a manual entry over a
 * STOP changes nothing.  A STOP entry is lifted only by a START from that
 * number (cn_blacklist_optin), or by a forced removal; NPAI and manual
 * entries may be removed by an operator.
 *
 * Every change runs in one transaction (or, when the caller already has
 * one open on the store, in a savepoint inside it), gives new entries a
 * UUID (version 7) and times (created_at, updated_at), records the acting
 * user, and marks the entry for sync (sync_item, kind 'blacklist': state
 * 'pending', deleted 1 for a removal).
 */
#ifndef CARNET_BLACKLIST_H
#define CARNET_BLACKLIST_H

/* Longest normalised address, NUL included (an email is 254 at most). */
#define CN_ADDRESS_MAX 256

/* Why an address is listed.  The order is the strength: a stronger
 * reason replaces a weaker one, never the other way round. */
enum cn_bl_reason {
	CN_BL_NONE = 0,	/* not listed (lookups); any reason (filters) */
	CN_BL_MANUAL,	/* an operator's choice */
	CN_BL_NPAI,	/* undeliverable; an operator may lift it */
	CN_BL_STOP,	/* opted out; only a START from the number lifts it */
};

/*
 * Parses a reason: "manual", "NPAI" (or "undeliverable"), "STOP", without
 * regard to ASCII case.  Returns 0, or -1 (out untouched) if unknown.
 */
int cn_blacklist_reason_parse(const char *s, enum cn_bl_reason *out);
/* "manual", "NPAI", "STOP" (as stored), or "" for CN_BL_NONE. */
const char *cn_blacklist_reason_name(enum cn_bl_reason r);

/*
 * Normalises what a user or a gateway gave into a blacklist address:
 * with an '@' an email (cn_email_normalize), else a phone number in E.164
 * with the rules' country (cn_phone_normalize; rules as it takes them:
 * the configuration's, c->cfg.phone in a tool).  out holds cap bytes
 * (CN_ADDRESS_MAX is enough).  Returns 0, or -1 with err (CN_EDATA:
 * "invalid phone '06 12': too short", "invalid email 'x': no '@'").
 */
int cn_blacklist_normalize(const struct cn_phone_rules *rules, const char *in,
			   char *out, size_t cap, struct cn_err *err);

/* What a change did. */
enum cn_bl_action {
	CN_BL_ADDED = 1,	/* a new entry */
	CN_BL_UPGRADED,		/* an entry whose reason became stronger */
	CN_BL_UNCHANGED,	/* an entry kept as it was (same or stronger
				   reason); nothing written */
	CN_BL_REMOVED,		/* an entry removed */
	CN_BL_KEPT,		/* optin: nothing to lift (no entry, or not a
				   STOP entry); nothing written */
};

struct cn_blacklist_result {
	enum cn_bl_action action;
	enum cn_bl_reason reason;	/* the entry's reason after the call
					   (CN_BL_NONE once removed) */
	enum cn_bl_reason previous;	/* before the call (CN_BL_NONE when
					   the address was not listed) */
	char uuid[37];			/* the entry's UUID ("" if none) */
};

/* ---------------------------------------------------------------------
 * Batches: several changes, all or nothing
 */

struct cn_blacklist_batch;

/*
 * Opens a batch on st (borrowed; must outlive the batch): starts a write
 * transaction (BEGIN IMMEDIATE), or a savepoint when the caller already
 * has a transaction open on the store, and prepares the statements.
 * Returns NULL with err on failure (CN_ETEMP when the store is busy).
 * End it with cn_blacklist_batch_commit() or cn_blacklist_batch_abort().
 */
struct cn_blacklist_batch *cn_blacklist_batch_open(struct cn_store *st,
						   struct cn_err *err);

/*
 * Adds address with reason (CN_BL_MANUAL, CN_BL_NPAI or CN_BL_STOP).
 * source ("operator", "sms-fetch", "import", ...), note and user (a user
 * name, created if needed) may be NULL; all are borrowed.  A new address
 * gets an entry (CN_BL_ADDED).  An address already listed with a weaker
 * reason is upgraded (CN_BL_UPGRADED): reason, source, user and time
 * change, the note too when one is given, uuid and created_at stay.  One
 * listed with the same or a stronger reason is left alone
 * (CN_BL_UNCHANGED).  res (may be NULL) says what happened.
 * Returns 0, or -1 with err: CN_EDATA for an address that is not
 * normalised, a note longer than 1024 bytes or not valid UTF-8, CN_EUSAGE
 * for a bad reason; nothing is written then and the batch goes on.  Any
 * other error (store) breaks the batch: it can only be aborted.
 */
int cn_blacklist_batch_add(struct cn_blacklist_batch *b, const char *address,
			   enum cn_bl_reason reason, const char *source,
			   const char *note, const char *user,
			   struct cn_blacklist_result *res,
			   struct cn_err *err);

/*
 * Removes the entry of address.  A STOP entry is removed only with force
 * (the caller should warn: the person opted out).  res (may be NULL) gets
 * CN_BL_REMOVED and the reason the entry had.  Returns 0, or -1 with err,
 * nothing written and the batch still usable: CN_ENOINPUT when the
 * address is not listed, CN_ECHECK for a STOP entry without force
 * ("+33612345678 opted out (STOP): only a START from that number lifts
 * it"), CN_EDATA for an address not normalised.  A store error breaks the
 * batch.
 */
int cn_blacklist_batch_remove(struct cn_blacklist_batch *b,
			      const char *address, int force,
			      struct cn_blacklist_result *res,
			      struct cn_err *err);

/*
 * A START from address: removes its entry if, and only if, it is a STOP
 * entry.  Returns 1 when an entry was lifted (res: CN_BL_REMOVED), 0 when
 * there was nothing to lift (no entry, or an NPAI or manual one, which a
 * START leaves in place; res: CN_BL_KEPT), -1 with err as for
 * cn_blacklist_batch_remove().  A manual entry that a STOP upgraded is a
 * STOP entry: a START removes it.
 */
int cn_blacklist_batch_optin(struct cn_blacklist_batch *b,
			     const char *address,
			     struct cn_blacklist_result *res,
			     struct cn_err *err);

/*
 * Commits the batch (or releases its savepoint) and frees it.  Returns 0,
 * or -1 with err after rolling everything back (also when the batch was
 * broken by an earlier error).
 */
int cn_blacklist_batch_commit(struct cn_blacklist_batch *b,
			      struct cn_err *err);
/* Rolls the batch back (a dry run, an error) and frees it.  NULL is a
 * no-op. */
void cn_blacklist_batch_abort(struct cn_blacklist_batch *b);

/* ---------------------------------------------------------------------
 * One change, in its own transaction (or savepoint)
 */

/* cn_blacklist_batch_add() alone.  On error nothing is written. */
int cn_blacklist_add(struct cn_store *st, const char *address,
		     enum cn_bl_reason reason, const char *source,
		     const char *note, const char *user,
		     struct cn_blacklist_result *res, struct cn_err *err);
/* A STOP from address: cn_blacklist_add() with CN_BL_STOP, no note and
 * no user (source says where it came from, e.g. "sms-fetch"). */
int cn_blacklist_optout(struct cn_store *st, const char *address,
			const char *source, struct cn_blacklist_result *res,
			struct cn_err *err);
/* A START from address: cn_blacklist_batch_optin() alone; returns 1 if a
 * STOP entry was lifted, 0 if not, -1 with err (nothing written). */
int cn_blacklist_optin(struct cn_store *st, const char *address,
		       struct cn_err *err);
/* cn_blacklist_batch_remove() alone.  On error nothing is written. */
int cn_blacklist_remove(struct cn_store *st, const char *address, int force,
			struct cn_blacklist_result *res, struct cn_err *err);

/* ---------------------------------------------------------------------
 * Lookups
 */

struct cn_blacklist_checker;

/*
 * Prepares a lookup statement for many lookups (one per recipient) on st
 * (borrowed; must outlive the checker).  Works inside or outside the
 * caller's transactions and sees their changes.  Returns NULL with err on
 * failure.
 */
struct cn_blacklist_checker *cn_blacklist_checker_open(struct cn_store *st,
							struct cn_err *err);
/*
 * Looks address (normalised) up.  Returns 1 if it is listed, 0 if not,
 * -1 with err on a store error; *reason (may be NULL) gets the entry's
 * reason, or CN_BL_NONE.
 */
int cn_blacklist_checker_check(struct cn_blacklist_checker *ck,
			       const char *address, enum cn_bl_reason *reason,
			       struct cn_err *err);
/* Frees the checker.  NULL is a no-op. */
void cn_blacklist_checker_close(struct cn_blacklist_checker *ck);

/* One lookup: the same as a checker used once. */
int cn_blacklist_lookup(struct cn_store *st, const char *address,
			enum cn_bl_reason *reason, struct cn_err *err);

/* An entry as cn_blacklist_each() gives it; the strings are borrowed and
 * valid during the callback only. */
struct cn_blacklist_entry {
	const char *uuid;
	const char *address;
	enum cn_bl_reason reason;
	const char *source;	/* NULL if unknown */
	const char *note;	/* NULL if none */
	const char *user;	/* the user who added it, NULL if none */
	int64_t created_at;	/* Unix seconds */
	int64_t updated_at;
};

typedef int (*cn_blacklist_fn)(void *ctx,
			       const struct cn_blacklist_entry *e);

/*
 * Calls fn for each entry with reason filter (CN_BL_NONE: every entry),
 * ordered by address.  Stops early, returning 0, when fn returns non-zero.
 * Returns 0, or -1 with err on a store error.
 */
int cn_blacklist_each(struct cn_store *st, enum cn_bl_reason filter,
		      cn_blacklist_fn fn, void *ctx, struct cn_err *err);

#endif
