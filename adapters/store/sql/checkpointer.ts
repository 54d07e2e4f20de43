/**
 * @module checkpointer
 * WAL checkpoints of SQLite stores, off the event loop. SQLite's automatic checkpoint runs inside the commit that
 * crosses the threshold: it copies the WAL into the database file and fsyncs it, blocking the event loop for
 * milliseconds every few hundred requests (most of the time the request path spent writing, and its p99).
 *
 * One worker thread per process, started on first use and never keeping the process alive, holds a connection of
 * its own to each registered database and runs a PASSIVE checkpoint every CHECKPOINT_INTERVAL_MS (PASSIVE waits for
 * no reader or writer: it copies what it can). The store's own connection turns its automatic checkpoint off while
 * registered, and back on if the worker fails. Durability is unchanged: a commit is in the WAL (synchronous=NORMAL)
 * before its caller hears of it, whoever checkpoints it later.
 *
 * The WAL file stays bounded (docs/security.md, "Storage bounds"). Under steady writes a PASSIVE checkpoint rarely
 * catches the log at a moment when no commit came in meanwhile, and only then may the next writer start the log
 * again from its beginning: the file grew by every write (62 MB in 20 s of a flood). So:
 * - the worker empties the file (TRUNCATE) when its PASSIVE checkpoint copied everything of a log larger than
 *   WAL_TRUNCATE_BYTES: nobody was writing, and it costs nothing more;
 * - the store's connection, after each of its commits (between two batches: nothing of its own can commit in
 *   between), looks at the file's size (a stat) and past WAL_TRUNCATE_BYTES runs the TRUNCATE checkpoint itself: it
 *   copies what the worker's checkpoints left (a few milliseconds on the event loop, once per few MiB written, when
 *   the worker keeps up) and empties the file. It never waits for a lock (busy_timeout 0 for its length): when a
 *   reader or the worker holds one, it tries again after the next commit.
 * `journal_size_limit` bounds the file also when the store's own connection checkpoints (the worker gone).
 */
import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'

const CHECKPOINT_INTERVAL_MS = 250
/** WAL size past which the log is truncated (a checkpoint of this much takes milliseconds). */
export const WAL_TRUNCATE_BYTES = 4 * 1024 * 1024
/** What a reset WAL is cut back to (bytes), on every connection of a store. */
export const JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024
/** SQLite's default wal_autocheckpoint, restored when the worker cannot do the work. */
const AUTOCHECKPOINT_PAGES = 1000

/** The worker, as a CommonJS script (so that it runs the same from dist/ and from the TypeScript sources in tests). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const dbs = new Map()
setInterval(() => {
  for (const db of dbs.values()) {
    try {
      const [done] = db.pragma('wal_checkpoint(PASSIVE)')
      // All copied and nobody writing: emptying the file costs nothing more (busy_timeout 0: never waits).
      if (done && done.log * db.pageSize > workerData.truncateBytes && done.checkpointed === done.log) db.pragma('wal_checkpoint(TRUNCATE)')
    } catch {}
  }
}, workerData.intervalMs)
parentPort.on('message', (m) => {
  if (m.op === 'add') {
    try {
      const db = new Database(m.path, { fileMustExist: true, timeout: 0 })
      db.pageSize = db.pragma('page_size', { simple: true })
      db.pragma('journal_size_limit = ' + workerData.journalSizeLimit)
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
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver, intervalMs: CHECKPOINT_INTERVAL_MS, truncateBytes: WAL_TRUNCATE_BYTES, journalSizeLimit: JOURNAL_SIZE_LIMIT,
    },
  })
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

export interface OffloadedCheckpoints {
  /**
   * Past WAL_TRUNCATE_BYTES, runs a TRUNCATE checkpoint on the store's connection: call it between two write
   * batches. Never waits for a lock (busy_timeout 0 while it runs); when it cannot finish, the next call tries again.
   */
  truncateIfLarge(): void
  /** Takes the checkpoints back; resolves once the worker's connection is closed. */
  release(): Promise<void>
}

const nothingOffloaded: OffloadedCheckpoints = { truncateIfLarge: () => undefined, release: async () => undefined }

/**
 * Hands the checkpoints of a file database's connection to the worker; answers how to take them back (resolves once
 * the worker's connection is closed, so the file can be closed, moved or deleted safely afterwards). In-memory and
 * read-only databases are left as they are.
 */
export const offloadCheckpoints = (db: BetterSqlite3.Database): OffloadedCheckpoints => {
  if (db.memory || db.readonly) return nothingOffloaded
  let w: Worker
  try {
    w = worker ??= start()
  } catch {
    return nothingOffloaded
  }
  const id = nextId++
  db.pragma('wal_autocheckpoint = 0')
  registered.set(id, db)
  w.postMessage({ op: 'add', id, path: db.name })
  const wal = `${db.name}-wal`
  const truncateIfLarge = () => {
    if (!db.open || db.inTransaction) return
    try {
      if (statSync(wal).size <= WAL_TRUNCATE_BYTES) return
    } catch {
      return
    }
    const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number
    try {
      db.pragma('busy_timeout = 0')
      db.pragma('wal_checkpoint(TRUNCATE)')
    } catch {
      // busy or closing: tried again after the next commit
    } finally {
      db.pragma(`busy_timeout = ${busyTimeout}`)
    }
  }
  const release = () => {
    if (!registered.delete(id) || worker !== w) return Promise.resolve()
    return new Promise<void>((resolve) => {
      removing.set(id, resolve)
      // Held open until the worker answers, so that a process closing its store does not end before that.
      w.ref()
      w.postMessage({ op: 'remove', id })
    })
  }
  return { truncateIfLarge, release }
}
