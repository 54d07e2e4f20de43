/**
 * The service's default log destination (composition/log-destination.ts: sonic-boom's buffer mode, fed each line's
 * UTF-8 bytes) writes exactly what pino's default destination (sonic-boom's string mode) writes: for any lines, in
 * any bursts (the lines of one turn of the event loop queue behind the write in flight), multi-byte characters and
 * lines longer than a chunk included; and the service logger's lines through it are whole JSON lines.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { pino, type DestinationStream } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { logDestination } from '../../composition/log-destination.js'
import { createLogger } from '../../composition/logger.js'

const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-log-destination-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

/** Writes the bursts, one turn of the event loop each, ends the stream and answers the file's bytes. */
const written = async (make: (file: string) => DestinationStream, bursts: readonly (readonly string[])[]): Promise<Buffer> => {
  const file = join(dir, `${++files}.log`)
  const stream = make(file) as DestinationStream & NodeJS.EventEmitter & { end(): void }
  await new Promise((resolve) => stream.once('ready', resolve))
  for (const burst of bursts) {
    for (const line of burst) stream.write(line)
    await new Promise((resolve) => setImmediate(resolve))
  }
  await new Promise((resolve) => {
    stream.once('close', resolve)
    stream.end()
  })
  return readFileSync(file)
}

const line = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ maxLength: 20 }).map((s) => s.repeat(1 + (s.length % 7) * 700)),
).map((s) => `${s}\n`)

describe('the default log destination', () => {
  it('writes the bytes pino\'s default destination writes, in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(line, { maxLength: 40 }), { minLength: 1, maxLength: 6 }), async (bursts) => {
        const ours = await written((file) => logDestination(file), bursts)
        const pinos = await written((file) => pino.destination({ dest: file, sync: false }), bursts)
        expect(ours.equals(pinos)).toBe(true)
        expect(ours.equals(Buffer.from(bursts.flat().join('')))).toBe(true)
      }),
      { numRuns: 60 },
    )
  })

  it('carries the service logger\'s lines, the request line\'s pre-serialized form included, as whole JSON lines', async () => {
    const file = join(dir, 'service.log')
    const destination = logDestination(file) as DestinationStream & NodeJS.EventEmitter & { end(): void }
    await new Promise((resolve) => destination.once('ready', resolve))
    const log = createLogger('info', destination)
    for (let i = 0; i < 500; i++) {
      log.infoFields(`"requestId":"r-${i}","path":"/é/${'ü'.repeat(i % 50)}"`, 'request')
      log.info({ n: i, token: 'not written' }, 'ordinary ✓')
    }
    await new Promise((resolve) => {
      destination.once('close', resolve)
      destination.end()
    })
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(1000)
    expect(lines[998]).toMatchObject({ requestId: 'r-499', path: `/é/${'ü'.repeat(49)}`, msg: 'request' })
    expect(lines[999]).toMatchObject({ n: 499, token: '[redacted]', msg: 'ordinary ✓' })
  })
})
