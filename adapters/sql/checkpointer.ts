/**
 * @module checkpointer
 * WAL checkpoints of SQLite stores, off the event loop. SQLite's automatic checkpoint runs inside the commit that
 * crosses the threshold: it copies the WAL into the database file and fsyncs it, blocking the event loop for
 * milliseconds every few hundred requests (most of the time the request path spent writing, and its p99).
 *
 * One worker thread per process, started on first use and never keeping the process alive, holds a connection of
 * its own to each registered database and runs a PASSIVE checkpoint every CHECKPOINT_INTERVAL_MS (PASSIVE waits for
 * no reader or writer: it copies what it can). The store's own connection turns its automatic checkpoint off while
 * registered, and back on if the worker fails, so the WAL never grows unbounded. Durability is unchanged: a commit is
 * in the WAL (synchronous=NORMAL) before its caller hears of it, whoever checkpoints it later.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'

export const CHECKPOINT_INTERVAL_MS = 250
/** SQLite's default wal_autocheckpoint, restored when the worker cannot do the work. */
const AUTOCHECKPOINT_PAGES = 1000

/** The worker, as a CommonJS script (so that it runs the same from dist/ and from the TypeScript sources in tests). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const dbs = new Map()
setInterval(() => {
  for (const db of dbs.values()) {
    try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
  }
}, workerData.intervalMs)
parentPort.on('message', (m) => {
  if (m.op === 'add') {
    try {
      const db = new Database(m.path, { fileMustExist: true })
      dbs.set(m.id, db)
    } catch (e) {
      parentPort.postMessage({ op: 'failed', id: m.id })
    }
  } else if (m.op === 'remove') {
    const db = dbs.get(m.id)
    dbs.delete(m.id)
    try { db && db.close() } catch {}
    parentPort.postMessage({ op: 'removed', id: m.id })
  }
})
`

let worker: Worker | undefined
let nextId = 1
/** The store connections handed over to the worker, to get their automatic checkpoint back if it fails. */
const registered = new Map<number, BetterSqlite3.Database>()
/** Removals waiting for the worker to have closed its connection. */
const removing = new Map<number, () => void>()

const autocheckpoint = (db: BetterSqlite3.Database | undefined) => {
  try {
    if (db?.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`)
  } catch {
    // closing
  }
}

const fail = () => {
  worker = undefined
  for (const db of registered.values()) autocheckpoint(db)
  registered.clear()
  for (const done of removing.values()) done()
  removing.clear()
}

const start = (): Worker => {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, intervalMs: CHECKPOINT_INTERVAL_MS } })
  w.unref()
  w.on('message', (m: { op: 'failed' | 'removed'; id: number }) => {
    if (m.op === 'failed') {
      autocheckpoint(registered.get(m.id))
      registered.delete(m.id)
    } else {
      removing.get(m.id)?.()
      removing.delete(m.id)
      if (removing.size === 0) w.unref()
    }
  })
  w.on('error', () => {
    if (worker === w) fail()
  })
  w.on('exit', () => {
    if (worker === w) fail()
  })
  return w
}

/**
 * Hands the checkpoints of a file database's connection to the worker; answers how to take them back (resolves once
 * the worker's connection is closed, so the file can be closed, moved or deleted safely afterwards). In-memory and
 * read-only databases are left as they are.
 */
export const offloadCheckpoints = (db: BetterSqlite3.Database): (() => Promise<void>) => {
  if (db.memory || db.readonly) return async () => undefined
  let w: Worker
  try {
    w = worker ??= start()
  } catch {
    return async () => undefined
  }
  const id = nextId++
  db.pragma('wal_autocheckpoint = 0')
  registered.set(id, db)
  w.postMessage({ op: 'add', id, path: db.name })
  return () => {
    if (!registered.delete(id) || worker !== w) return Promise.resolve()
    return new Promise<void>((resolve) => {
      removing.set(id, resolve)
      // Held open until the worker answers, so that a process closing its store does not end before that.
      w.ref()
      w.postMessage({ op: 'remove', id })
    })
  }
}
