/**
 * Readiness on a full disk (docs/operations.md, "Health"): the SQLite database lives on a small tmpfs mounted for
 * the test; once the disk is full, token requests get 503 and so does /health/ready, and ready comes back when
 * space is freed; a service started on the full disk is refused. Mounting needs CAP_SYS_ADMIN (root in CI, as
 * here); where the mount is not permitted the suite says so and is skipped: the write-lock test of
 * readiness-writes.test.ts covers the same readiness rule everywhere.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreNotWritableError } from '../../adapters/store/store-readiness.js'
import { rawRequest, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

const mountPoint = mkdtempSync(join(tmpdir(), 'consumer-auth-full-'))
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { stdio: 'ignore' })
    return true
  } catch {
    console.warn(`readiness-full-disk: cannot mount a tmpfs here (needs CAP_SYS_ADMIN); the full-disk case is not run`)
    return false
  }
})()

const ready = async (url: string) => (await rawRequest(url, { method: 'GET', path: '/health/ready' })).status
const example = async (url: string) =>
  (await rawRequest(url, { path: TOKEN_ROUTE, headers: { 'content-type': 'application/json', authorization: EXAMPLE_AUTHORIZATION }, body: EXAMPLE_BODY })).status
/** Fills what is left of the tmpfs (the write stops at ENOSPC). */
const fill = (path: string) => {
  try {
    writeFileSync(path, Buffer.alloc(8 * 1024 * 1024), { flag: 'a' })
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOSPC') throw e
  }
}

describe.runIf(mounted)('SQLite on a disk that fills up', () => {
  let svc: TestService
  const filler = join(mountPoint, 'filler')
  beforeAll(async () => {
    svc = await startTestService({ db: `sqlite:${join(mountPoint, 'data', 'consumer-auth.db')}` })
  })
  afterAll(async () => {
    rmSync(filler, { force: true })
    await svc?.close()
    execFileSync('umount', [mountPoint])
    rmSync(mountPoint, { recursive: true, force: true })
  })

  it('is ready, then 503 with the disk full (token requests 503 too), then ready again once space is freed', async () => {
    expect(await ready(svc.url)).toBe(200)
    expect(await example(svc.url)).toBe(200)
    // The WAL may still have room inside its file for a few writes after the disk is full: such writes succeed, and
    // so they should. Fill again before each request (a checkpoint may free blocks) until the token route is refused.
    let refused = false
    for (let i = 0; i < 200 && !refused; i++) {
      fill(filler)
      refused = (await example(svc.url)) === 503
    }
    expect(refused).toBe(true)
    // Readiness then agrees once its trusted probe (1 s) has expired. Its write is small and, like the token route's,
    // may still land in room the WAL file already holds (a checkpoint that reset the WAL frees no disk block but lets
    // frames be written again): each round fills the disk and spends that room with a token request before it asks.
    let readiness = 0
    for (let i = 0; i < 20 && readiness !== 503; i++) {
      fill(filler)
      await example(svc.url)
      await new Promise((r) => setTimeout(r, 1_100))
      readiness = await ready(svc.url)
    }
    expect(readiness).toBe(503)
    rmSync(filler)
    expect(await ready(svc.url)).toBe(200)
    expect(await example(svc.url)).toBe(200)
  })

  it('a service started with a new database on the full disk is refused: the database does not accept writes', async () => {
    fill(filler)
    try {
      await expect(startTestService({ db: `sqlite:${join(mountPoint, 'data', 'new.db')}` })).rejects.toThrow(StoreNotWritableError)
    } finally {
      rmSync(filler, { force: true })
    }
  })
})

if (!mounted) afterAll(() => rmSync(mountPoint, { recursive: true, force: true }))
