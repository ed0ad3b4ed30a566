/*
 * carnet-sync.h - two-way sync of the store with a CouchDB-compatible
 * server (lib/sync.c).  Included by carnet.h; not to be included on its
 * own.
 *
 * Each synced item is one document on the server, _id "KIND:UUID" (kind
 * list, contact, blacklist, template, campaign or message; a message's
 * uuid is its ref).  Every document carries the item's data, "kind",
 * "edited_at" (the Unix time of the edit) and "device" (the id of the
 * store that made it).  Deletions are tombstones (_deleted: true).  Local
 * per-item state lives in sync_item (pending, synced, conflict; the last
 * known _rev; deleted), the pull checkpoint in sync_checkpoint, conflicts
 * in sync_conflict, and the machines seen in sync_device; this store's
 * device id is the setting 'sync_device_id'.
 *
 * The tools mark what they change in the same transaction as the change
 * (cn_sync_mark, or their own statement on sync_item); the sync pushes
 * the pending items with _bulk_docs and pulls the server's _changes.
 */
#ifndef CARNET_SYNC_H
#define CARNET_SYNC_H

#include <signal.h>

/* What syncs: bits of cn_sync_opts.kinds. */
enum {
	CN_SYNC_LISTS = 1 << 0,		/* lists */
	CN_SYNC_CONTACTS = 1 << 1,	/* contacts (with their lists) */
	CN_SYNC_BLACKLISTS = 1 << 2,	/* blacklist entries */
	CN_SYNC_TEMPLATES = 1 << 3,	/* templates */
	CN_SYNC_CAMPAIGNS = 1 << 4,	/* campaigns and their messages */
	CN_SYNC_ALL = (1 << 5) - 1,
};

enum cn_sync_policy {
	CN_SYNC_NEWEST = 0,	/* the later edit wins; a tie: the server's */
	CN_SYNC_LOCAL,		/* this store wins */
	CN_SYNC_REMOTE,		/* the server wins */
	CN_SYNC_ASK,		/* keep both, list the conflict, wait */
};

/* Parses "lists,contacts,..." (the form of cn_config.sync_kinds; empty:
 * none) into *out.  Returns 0, or -1 on an unknown name. */
int cn_sync_kinds_parse(const char *s, unsigned *out);
/* Parses newest, local, remote, ask.  Returns 0 or -1. */
int cn_sync_policy_parse(const char *s, enum cn_sync_policy *out);
const char *cn_sync_policy_name(enum cn_sync_policy p);

/* One change a run made or (dry run) would make: direction "push" or
 * "pull", kind, uuid, action "add", "update", "delete", "conflict" or
 * "refused" (the mass-delete guard), and a short label of the item. */
struct cn_sync_change {
	const char *direction;
	const char *kind;
	const char *uuid;
	const char *action;
	const char *label;
};

typedef void (*cn_sync_change_fn)(void *ctx, const struct cn_sync_change *c);
/* A progress line for --verbose (no newline). */
typedef void (*cn_sync_log_fn)(void *ctx, const char *line);

struct cn_sync_opts {
	const char *url;	/* the server, e.g. "http://127.0.0.1:5984" */
	const char *database;	/* the account's database */
	const char *username;	/* NULL: none (or in the URL) */
	const char *password;	/* borrowed; never printed */
	long timeout_s;		/* per request; 0 means 20 */
	unsigned kinds;		/* CN_SYNC_* bits */
	enum cn_sync_policy policy;
	long delete_max_percent;	/* the guard: share of one kind */
	long delete_max;		/* and a count (0: no count limit) */
	int force_delete;	/* go past the guard */
	const char *device_name;	/* this machine's name */
	int push, pull;		/* which directions run */
	int dry_run;		/* read the server, write nothing anywhere */
	int batch;		/* documents per request (0: 1000) */
	/* when it becomes non-zero, the run ends after the current batch */
	volatile sig_atomic_t *stop;
	cn_sync_change_fn on_change;	/* each change (may be NULL) */
	cn_sync_log_fn on_log;		/* progress lines (may be NULL) */
	void *ctx;
};

struct cn_sync_stats {
	uint64_t pushed, pushed_deleted;	/* documents the server took */
	uint64_t pulled, pulled_deleted;	/* documents applied here */
	uint64_t conflicts;		/* resolved by the policy */
	uint64_t conflicts_open;	/* left for "conflicts --take" */
	uint64_t refused;		/* deletions the guard held back */
	uint64_t docs_sent;		/* documents in _bulk_docs bodies */
	uint64_t docs_received;		/* documents read from _changes */
	uint64_t requests;		/* HTTP requests made */
	uint64_t rejected;		/* server documents refused as bad
					   data (not applied) */
	char rejected_msg[400];		/* the first one: "kind:uuid: why" */
	int stopped;			/* ended early by *stop */
	uint64_t server_reset;		/* the database was emptied or made
					   anew since the last sync: items
					   synced before, pushed again */
	char refused_msg[400];		/* what the guard refused, or "" */
};

/*
 * One sync run: pull (unless !o->pull) then push (unless !o->push), then
 * publish this device's "device:ID" document.  Pulled documents are
 * applied in batches, each in one transaction with the new checkpoint;
 * pushed items are marked synced, with the server's _rev, only when the
 * server acknowledged them.  A killed run resumes where it stopped.
 * Returns 0 (stats say what happened; refused deletions are in stats,
 * not an error), or -1 with err: CN_ETEMP when the server is unreachable,
 * times out or answers 5xx, CN_ENOPERM for 401/403, CN_EDATA for an
 * answer that is not what CouchDB sends; the batch in progress is then
 * not applied.
 */
int cn_sync_run(struct cn_store *st, const struct cn_sync_opts *o,
		struct cn_sync_stats *stats, struct cn_err *err);

/* The sync state of one item (status). */
struct cn_sync_item {
	const char *kind;
	const char *uuid;
	const char *label;	/* list name, email or phone, title, ... */
	const char *state;	/* pending, synced, conflict */
	int deleted;
	const char *rev;	/* NULL if never synced */
	int64_t changed_at;
	int64_t synced_at;	/* 0 if never */
};
typedef int (*cn_sync_item_fn)(void *ctx, const struct cn_sync_item *it);

/*
 * Calls fn for each item of the kinds (pending ones only with
 * pending_only), in kind then uuid order; items that no tool marked yet
 * (made before sync was used) are marked pending first.  Stops when fn
 * returns non-zero.  Returns 0 or -1 with err.
 */
int cn_sync_status(struct cn_store *st, unsigned kinds, int pending_only,
		   cn_sync_item_fn fn, void *ctx, struct cn_err *err);

/* Counts of items by state, and the last sync time (0: never). */
struct cn_sync_summary {
	int64_t pending, synced, conflict, deleted_pending;
	int64_t last_sync;
};
int cn_sync_summary(struct cn_store *st, unsigned kinds,
		    struct cn_sync_summary *out, struct cn_err *err);

struct cn_sync_conflict {
	int64_t id;
	const char *kind;
	const char *uuid;
	const char *local;	/* JSON document, NULL when deleted */
	const char *remote;	/* JSON document, NULL when deleted */
	const char *resolution;	/* NULL while open; local, remote */
	const char *how;	/* who decided: a policy name, or "take" */
	int64_t created_at, resolved_at;
};
typedef int (*cn_sync_conflict_fn)(void *ctx,
				   const struct cn_sync_conflict *c);

/* Calls fn for each open conflict (resolved ones with resolved), oldest
 * first.  Returns 0 or -1 with err. */
int cn_sync_conflicts(struct cn_store *st, int resolved,
		      cn_sync_conflict_fn fn, void *ctx, struct cn_err *err);

/*
 * Resolves open conflict id: take_remote applies the server's version
 * here (synced); else this store's version stays and is pushed by the
 * next run (pending).  Logged in sync_conflict.  Returns 0, or -1 with
 * err (CN_ENOINPUT: no such open conflict).
 */
int cn_sync_take(struct cn_store *st, int64_t id, int take_remote,
		 struct cn_err *err);

struct cn_sync_device {
	const char *id;
	const char *name;
	int64_t last_sync;	/* 0: never */
	int self;		/* this store */
};
typedef int (*cn_sync_device_fn)(void *ctx, const struct cn_sync_device *d);

/*
 * Lists the machines that sync this account: the server's device
 * documents (remembered in sync_device), or with o == NULL or when the
 * server cannot be reached (*offline set to 1), the ones remembered.
 * Returns 0 or -1 with err.
 */
int cn_sync_devices(struct cn_store *st, const struct cn_sync_opts *o,
		    cn_sync_device_fn fn, void *ctx, int *offline,
		    struct cn_err *err);

/*
 * Marks an item changed (deleted: removed) for sync, inside the caller's
 * transaction: kind is "list", "contact", "blacklist", "template",
 * "campaign" or "message"; uuid its uuid (a contact's public id, a
 * message's ref).  Keeps the item's last known _rev.  Returns 0 or -1.
 */
int cn_sync_mark(struct cn_store *st, const char *kind, const char *uuid,
		 int deleted, struct cn_err *err);

#endif /* CARNET_SYNC_H */
