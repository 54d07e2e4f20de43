/**
 * @module codec
 * The io-ts toolkit every codec of the project is built with, written once: `isPlainObject`, a refinement (a check
 * that answers why a value is refused), an object of declared fields (unknown fields refused, or kept where a format
 * allows members of its own, as a JWK does), and the error path of a failure (`access_tokens[1].pass_code`).
 *
 * `is` and `decode` of a codec built here ask the same question, so they always agree: a refinement's `is` runs its
 * check, an object's `is` decodes. Decoding answers the input's own values (never a converted one), so a value that
 * `is` accepts is exactly what `decode` would have answered. Failures carry their message and never the value: any
 * field may be a secret.
 *
 * Shared with the adapters (secrets, import, configuration) but not part of the core's public entry (index.ts).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'

/** A JSON object: not null, not an array. */
export const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** A refinement of unknown: `problem` answers why `u` is not an A, or undefined when it is one. */
export const refinement = <A>(name: string, problem: (u: unknown) => string | undefined): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(
    name,
    (u): u is A => problem(u) === undefined,
    (u, c) => {
      const p = problem(u)
      return p === undefined ? t.success(u as A) : t.failure(u, c, p)
    },
    t.identity,
  )

/** A refinement of strings: `problem` is asked only of strings; anything else `must be a string`. */
export const text = (name: string, problem: (s: string) => string | undefined): t.Type<string, string, unknown> =>
  refinement<string>(name, (u) => (typeof u === 'string' ? problem(u) : 'must be a string'))

export type ObjectOf<R extends t.Props, O extends t.Props> = { readonly [K in keyof R]: t.TypeOf<R[K]> } & { readonly [K in keyof O]?: t.TypeOf<O[K]> }

/** How an object's failures are worded (each format keeps its documented messages). */
export interface ObjectWording {
  readonly notAnObject: string
  readonly missing: string
  /** The message for a field the object does not declare; `'keep'` keeps such fields, as they are, in the value. */
  readonly unknownField: ((field: string, known: ReadonlyArray<string>) => string) | 'keep'
}

/**
 * A JSON object with required and optional fields, decoded field by field so that each failure's path names its
 * field, every failure collected: first the undeclared fields (in the input's order), then the declared ones (in
 * declaration order). An absent field and one whose value is `undefined` are the same; inherited names are not fields.
 */
export const object = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O, wording: ObjectWording) => {
  const known = [...Object.keys(required), ...Object.keys(optional)]
  const { unknownField } = wording
  const type: t.Type<ObjectOf<R, O>, ObjectOf<R, O>, unknown> = new t.Type<ObjectOf<R, O>, ObjectOf<R, O>, unknown>(
    name,
    (u): u is ObjectOf<R, O> => E.isRight(type.decode(u)),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c, wording.notAnObject)
      const errors: t.ValidationError[] = []
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(u)) {
        if (known.includes(k)) continue
        if (unknownField === 'keep') out[k] = u[k]
        else errors.push({ value: undefined, context: t.appendContext(c, k, t.unknown, undefined), message: unknownField(k, known) })
      }
      const field = (k: string, codec: t.Mixed, mandatory: boolean) => {
        const v = Object.prototype.hasOwnProperty.call(u, k) ? u[k] : undefined
        if (v === undefined) {
          if (mandatory) errors.push({ value: undefined, context: t.appendContext(c, k, codec, undefined), message: wording.missing })
          return
        }
        const r = codec.validate(v, t.appendContext(c, k, codec, v))
        if (E.isLeft(r)) errors.push(...r.left)
        else out[k] = r.right
      }
      for (const [k, codec] of Object.entries(required)) field(k, codec, true)
      for (const [k, codec] of Object.entries(optional)) field(k, codec, false)
      return errors.length > 0 ? t.failures(errors) : t.success(out as ObjectOf<R, O>)
    },
    t.identity,
  )
  return type
}

/** Where a failure is: field names, and array indexes as numbers; the root and union or intersection members are no step. */
export const errorPath = (context: t.Context): Array<string | number> =>
  context.flatMap((entry, i): Array<string | number> => {
    if (i === 0 || entry.key === '') return []
    const parent = context[i - 1]!.type
    if (parent instanceof t.UnionType || parent instanceof t.IntersectionType) return []
    const indexed = parent instanceof t.ArrayType || parent instanceof t.ReadonlyArrayType || parent instanceof t.AnyArrayType
    return indexed ? [Number(entry.key)] : [entry.key]
  })

/** The context of a failure found after decoding, at `path` below `c` (indexes as numbers, as errorPath answers them). */
export const contextAt = (c: t.Context, path: ReadonlyArray<string | number>): t.Context =>
  path.reduce<t.Context>((ctx, step, i) => t.appendContext(ctx, String(step), typeof path[i + 1] === 'number' ? t.UnknownArray : t.unknown, undefined), c)

/** `access_tokens[1].pass_code` */
export const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')

/** One failure: its path, and its message (the codec's name when it gave none). */
export interface CodecProblem {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

export const problemsOf = (errors: t.Errors): Array<CodecProblem> =>
  errors.map((e) => ({ path: errorPath(e.context), message: e.message ?? `must be ${e.context[e.context.length - 1]?.type.name ?? 'valid'}` }))
