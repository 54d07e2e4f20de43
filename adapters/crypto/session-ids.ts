/**
 * @module session-ids
 * Session ids (`jti`): 32 upper-case hexadecimal characters, i.e. 128 bits from the operating system's CSPRNG.
 */
import { randomFillSync } from 'node:crypto'
import type { IdSource } from '../../core/index.js'

const ID_BYTES = 16
/** 256 ids per refill: one system call instead of one per token, the same trade Node makes for randomUUID. */
const POOL_BYTES = ID_BYTES * 256

const pool = Buffer.allocUnsafe(POOL_BYTES)
// Starts "exhausted" so that the first id triggers the first fill; no random bytes are drawn at import time.
let offset = POOL_BYTES

export const randomSessionIds: IdSource = {
  newSessionId(): string {
    if (offset >= POOL_BYTES) {
      randomFillSync(pool)
      offset = 0
    }
    const id = pool.toString('hex', offset, offset + ID_BYTES).toUpperCase()
    // Each byte is handed out once: the offset moves on before anything else can read the pool.
    offset += ID_BYTES
    return id
  },
}
