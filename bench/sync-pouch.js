// bench/sync-pouch.js - PouchDB's own replicator doing the push and the
// pull that carnet-sync does, for bench/sync.sh (issue 8).
//
//   node sync-pouch.js push URL/DB DOCS.ndjson   # load the documents into
//       an in-memory PouchDB (not timed), then replicate it to URL/DB
//   node sync-pouch.js pull URL/DB               # replicate URL/DB into an
//       empty in-memory PouchDB
//
// batch_size 1000 as carnet-sync's batches.  Prints "seconds docs" of the
// replication alone on stdout.
'use strict';
const fs = require('fs');
const readline = require('readline');
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));

async function load(db, file) {
	const rl = readline.createInterface({input: fs.createReadStream(file)});
	let batch = [];
	for await (const line of rl) {
		if (!line) continue;
		const d = JSON.parse(line);
		delete d._rev;
		batch.push(d);
		if (batch.length === 1000) {
			await db.bulkDocs(batch);
			batch = [];
		}
	}
	if (batch.length) await db.bulkDocs(batch);
}

async function main() {
	const [mode, url, file] = process.argv.slice(2);
	const local = new PouchDB('bench-' + process.pid, {adapter: 'memory'});
	if (mode === 'push') await load(local, file);
	const t0 = process.hrtime.bigint();
	const opts = {batch_size: 1000, batches_limit: 10};
	const res = mode === 'push'
		? await local.replicate.to(url, opts)
		: await local.replicate.from(url, opts);
	const s = Number(process.hrtime.bigint() - t0) / 1e9;
	console.log(s.toFixed(3) + ' ' + res.docs_written);
}

main().catch((e) => { console.error('sync-pouch: ' + e); process.exit(1); });
