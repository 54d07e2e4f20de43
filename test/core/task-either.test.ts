/**
 * core/task-either.ts against fp-ts: every combinator gives what fp-ts's gives, for Rights and Lefts, over random
 * pipelines; Left short-circuits (later steps are not run); tryCatch turns rejections and synchronous throws into
 * Lefts; a step that throws gives a rejected Promise, never a synchronous throw.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as FTE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import * as TE from '../../core/task-either.js'

type Step = { kind: 'flatMap' | 'flatMapEither' | 'tap' | 'map' | 'mapError' | 'orElseW' | 'filterOrElse' | 'fromNullable'; fail: boolean; n: number }

const step = fc.record({
  kind: fc.constantFrom<Step['kind']>('flatMap', 'flatMapEither', 'tap', 'map', 'mapError', 'orElseW', 'filterOrElse', 'fromNullable'),
  fail: fc.boolean(),
  n: fc.integer({ min: -5, max: 5 }),
})

/** The same pipeline, built with either module (they share fp-ts's types). */
const build = (lib: typeof TE | typeof FTE, start: E.Either<string, number>, steps: ReadonlyArray<Step>, trace: string[]) => {
  let t: FTE.TaskEither<string, number> = E.isLeft(start) ? lib.left<string, number>(start.left) : lib.right<string, number>(start.right)
  for (const [i, s] of steps.entries()) {
    const out = (a: number) => {
      trace.push(`${s.kind}${i}(${a})`)
      return s.fail ? lib.left<string, number>(`e${i}`) : lib.right<string, number>(a + s.n)
    }
    switch (s.kind) {
      case 'flatMap':
        t = pipe(t, lib.flatMap(out))
        break
      case 'flatMapEither':
        t = pipe(t, lib.flatMapEither((a: number) => (trace.push(`flatMapEither${i}(${a})`), s.fail ? E.left(`e${i}`) : E.right(a - s.n))))
        break
      case 'tap':
        t = pipe(t, lib.tap(out))
        break
      case 'map':
        t = pipe(t, lib.map((a: number) => (trace.push(`map${i}(${a})`), a * 2 + s.n)))
        break
      case 'mapError':
        t = pipe(t, lib.mapError((e: string) => (trace.push(`mapError${i}(${e})`), `${e}!`)))
        break
      case 'orElseW':
        t = pipe(t, lib.orElseW((e: string) => (trace.push(`orElseW${i}(${e})`), s.fail ? lib.left<string, number>(`${e}?`) : lib.right<string, number>(s.n))))
        break
      case 'filterOrElse':
        t = pipe(t, lib.filterOrElse((a: number) => (trace.push(`filterOrElse${i}(${a})`), a % 2 === 0 || !s.fail), (a) => `odd ${a}`))
        break
      case 'fromNullable':
        // A look-up that finds nothing when the step fails.
        t = pipe(t, lib.flatMap((a: number) => (trace.push(`fromNullable${i}(${a})`), lib.fromNullable(`none${i}`)(s.fail ? undefined : a + s.n))))
        break
    }
  }
  return t
}

describe('task-either', () => {
  it('gives what fp-ts gives, running the same steps in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer().map(E.right), fc.string().map(E.left)), fc.array(step, { maxLength: 12 }), async (start, steps) => {
        const ours: string[] = []
        const theirs: string[] = []
        const a = await build(TE, start as E.Either<string, number>, steps, ours)()
        const b = await build(FTE, start as E.Either<string, number>, steps, theirs)()
        expect(a).toEqual(b)
        expect(ours).toEqual(theirs)
      }),
    )
  })

  it('tryCatch: a value is a Right; a rejection and a synchronous throw are Lefts through onRejected', async () => {
    const on = (e: unknown) => `caught ${String(e)}`
    expect(await TE.tryCatch(() => Promise.resolve(1), on)()).toEqual(E.right(1))
    expect(await TE.tryCatch(() => Promise.reject('no'), on)()).toEqual(E.left('caught no'))
    expect(
      await TE.tryCatch(() => {
        throw 'sync'
      }, on)(),
    ).toEqual(E.left('caught sync'))
  })

  it('a step that throws gives a rejected Promise, not a synchronous throw', async () => {
    const boom = new Error('boom')
    const throwing: TE.TaskEither<string, number> = () => {
      throw boom
    }
    const composed = pipe(throwing, TE.map((n: number) => n + 1))
    let promise: Promise<unknown> | undefined
    expect(() => (promise = composed())).not.toThrow()
    await expect(promise).rejects.toBe(boom)
    await expect(pipe(TE.right<string, number>(1), TE.flatMap(() => throwing))()).rejects.toBe(boom)
  })
})
