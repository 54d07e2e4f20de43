#!/usr/bin/env node
/**
 * How many pass-code logins per second the scrypt parameters allow on this machine (docs/security.md).
 *
 *   npm run build && node scripts/measure-scrypt.mjs [--seconds 5] [--concurrency N] [--N 32768] [--r 8] [--json]
 *   UV_THREADPOOL_SIZE=8 node scripts/measure-scrypt.mjs      # the thread pool the service would have
 *
 * Uses the service's own hasher (dist/adapters/crypto/scrypt-hasher.js, so build first) with its default parameters
 * unless --N/--r/--p override them. Measures one verification at a time (the latency a login pays), then verifications
 * kept in flight at the thread pool's size for --seconds (the most logins/s the process can serve: every pass-code
 * login, right or wrong, and every unknown identifier costs one verification).
 */
import { existsSync, statSync } from 'node:fs'
import { availableParallelism, cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const built = join(root, 'dist/adapters/crypto/scrypt-hasher.js')
const source = join(root, 'adapters/crypto/scrypt-hasher.ts')
if (!existsSync(built)) {
  console.error(`measure-scrypt: ${built} is missing; run \`npm run build\` first`)
  process.exit(2)
}
if (existsSync(source) && statSync(source).mtimeMs > statSync(built).mtimeMs) {
  console.error('measure-scrypt: warning: adapters/crypto/scrypt-hasher.ts is newer than its build; run `npm run build` for current defaults')
}
const { DEFAULT_SCRYPT_PARAMS, scryptHasher } = await import(built)

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string' },
    N: { type: 'string' },
    r: { type: 'string' },
    p: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
})

const pool = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
const concurrency = Number(args.concurrency ?? pool)
const seconds = Number(args.seconds)
const overrides = Object.fromEntries(['N', 'r', 'p'].filter((k) => args[k] !== undefined).map((k) => [k, Number(args[k])]))
const params = { ...DEFAULT_SCRYPT_PARAMS, ...overrides }
const hasher = scryptHasher(overrides)
const stored = await hasher.hash('4711')

const percentile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]

// One at a time: the latency of one login (after a warm-up).
await hasher.verify('0000', stored)
const latencies = []
for (let i = 0; i < 10; i++) {
  const t = performance.now()
  await hasher.verify(i % 2 ? '4711' : 'wrong', stored)
  latencies.push(performance.now() - t)
}

// Kept in flight at `concurrency`: throughput.
let done = 0
const until = performance.now() + seconds * 1000
const worker = async () => {
  while (performance.now() < until) {
    await hasher.verify('wrong', stored)
    done++
  }
}
const started = performance.now()
await Promise.all(Array.from({ length: concurrency }, worker))
const elapsed = (performance.now() - started) / 1000

const result = {
  params: { N: params.N, r: params.r, p: params.p },
  memoryPerVerificationMiB: (128 * params.N * params.r) / 2 ** 20,
  peakMemoryMiB: (128 * params.N * params.r * concurrency) / 2 ** 20,
  machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  threadPool: pool,
  concurrency,
  latencyMs: { p50: +percentile(latencies, 0.5).toFixed(1), max: +Math.max(...latencies).toFixed(1) },
  verificationsPerSecond: +(done / elapsed).toFixed(1),
  measuredSeconds: +elapsed.toFixed(1),
}

if (args.json) {
  console.log(JSON.stringify(result, null, 2))
} else {
  console.log(`scrypt N=${params.N} r=${params.r} p=${params.p}: ${result.memoryPerVerificationMiB} MiB per verification`)
  console.log(`machine: ${result.machine.cpus} CPUs (${result.machine.model}), ${result.machine.memoryGiB} GiB, Node ${result.machine.node}`)
  console.log(`one at a time: p50 ${result.latencyMs.p50} ms, max ${result.latencyMs.max} ms`)
  console.log(
    `${concurrency} in flight (UV_THREADPOOL_SIZE=${pool}): ${result.verificationsPerSecond} pass-code logins/s ` +
      `over ${result.measuredSeconds} s, peak ${result.peakMemoryMiB} MiB`,
  )
}
