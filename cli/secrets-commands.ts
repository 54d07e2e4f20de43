/**
 * @module secrets-commands
 * `secrets rotate|activate|prune`: the signing key ring of the secrets file, changed in place (written atomically,
 * mode 0600). A running server reads the file again on SIGHUP. With several instances, rotate in two rounds:
 * `rotate --stage` (every instance can verify the new key after its SIGHUP), then `activate KID` (docs/key-rotation.md).
 */
import { readFile } from 'node:fs/promises'
import type { Clock } from '../core/index.js'
import { decodeSecrets, SecretsError, signingAlgorithms, type Secrets, type SigningAlgorithm } from '../adapters/crypto/secrets-codec.js'
import { TYPES } from '../composition/services.js'
import { cliRoot, dbOption, jsonOption, storeConfig } from './context.js'
import { flag, iso, print, str, UsageError, type CliIo, type Command, type OptionSpec, type Parsed } from './kit.js'

/** Loaded on demand: it brings in the key import (jose), which no other command needs at start-up. */
const rotation = () => import('../adapters/crypto/ring-rotation.js')

const fileOption: Record<string, OptionSpec> = {
  'secrets-file': {
    type: 'string', value: 'PATH',
    help: 'the secrets file (default: $SECRETS_FILE, else the embedded default\'s file beside the SQLite database of --db)',
  },
  // The default file lies beside the database, so --db (or DATABASE_URL) says where it is.
  ...dbOption,
}

/** The file the options name (--secrets-file, else SECRETS_FILE, else the embedded default's), and the clock, from the root. */
const secretsRing = async (args: Parsed, io: CliIo): Promise<{ readonly path: string; readonly clock: Clock }> => {
  const root = await cliRoot(storeConfig(args, io))
  return { path: root.get(TYPES.SecretsFile), clock: root.get(TYPES.Clock) }
}

const readSecrets = async (path: string): Promise<Secrets> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new SecretsError(`The secrets file ${path} cannot be read (${code === 'ENOENT' ? 'no such file; `serve` generates one on first start' : code ?? 'error'})`)
  }
  return decodeSecrets(text, `the file ${path}`)
}

/** What every secrets command prints: the ring after the change, never a secret. */
const ringOf = (path: string, s: Secrets) => ({
  file: path,
  activeKid: s.activeKid,
  keys: s.signingKeys.map((k) => ({ kid: k.kid, alg: k.alg, active: k.kid === s.activeKid, retiredAt: iso(k.retiredAt) ?? null })),
})

const ringText = (ring: ReturnType<typeof ringOf>) =>
  ring.keys.map((k) => `  ${k.kid}  ${k.alg}${k.active ? '  active' : k.retiredAt ? `  retired ${k.retiredAt}` : '  staged'}\n`).join('')

const reloadHint = 'a running server uses it after SIGHUP (kill -HUP <pid>)'

const rotate: Command = {
  path: ['secrets', 'rotate'],
  summary: 'Add a new signing key and make it active; the old one retires (it verifies its tokens until they expire). Prints the new kid.',
  details: 'With --stage the key is only added (it verifies, it does not sign): activate it with `secrets activate KID` once every instance has reloaded.',
  options: {
    alg: { type: 'string', value: signingAlgorithms.join('|'), help: "the new key's algorithm (default: the active key's)" },
    stage: { type: 'boolean', help: 'add the key without activating it' },
    ...fileOption,
    ...jsonOption,
  },
  run: async (args, io) => {
    const alg = str(args, 'alg')
    if (alg !== undefined && !signingAlgorithms.includes(alg as SigningAlgorithm)) {
      throw new UsageError(`--alg ${JSON.stringify(alg)} is not one of ${signingAlgorithms.join(', ')}`)
    }
    const { path, clock } = await secretsRing(args, io)
    const { activateKey, stageKey, writeSecretsFile } = await rotation()
    const staged = await stageKey(await readSecrets(path), alg as SigningAlgorithm | undefined)
    const next = flag(args, 'stage') ? staged.secrets : activateKey(staged.secrets, staged.kid, clock.nowSeconds())
    await writeSecretsFile(path, next)
    const ring = ringOf(path, next)
    return print(io, args, { kid: staged.kid, staged: flag(args, 'stage') === true, ...ring }, () =>
      `${staged.kid}\n${flag(args, 'stage') ? 'staged' : 'active'} in ${path}; ${reloadHint}\n${ringText(ring)}`)
  },
}

const activate: Command = {
  path: ['secrets', 'activate'],
  summary: 'Make a staged key the active one; the key active before retires.',
  positionals: [{ name: 'KID', help: 'the kid of a key of the ring (not a retired one)' }],
  options: { ...fileOption, ...jsonOption },
  run: async (args, io) => {
    const { path, clock } = await secretsRing(args, io)
    const { activateKey, writeSecretsFile } = await rotation()
    const next = activateKey(await readSecrets(path), args.positionals[0]!, clock.nowSeconds())
    await writeSecretsFile(path, next)
    const ring = ringOf(path, next)
    return print(io, args, ring, () => `${next.activeKid} is active in ${path}; ${reloadHint}\n${ringText(ring)}`)
  },
}

const prune: Command = {
  path: ['secrets', 'prune'],
  summary: 'Drop the retired keys whose tokens have all expired.',
  options: { ...fileOption, ...jsonOption },
  run: async (args, io) => {
    const { path, clock } = await secretsRing(args, io)
    const { pruneKeys, writeSecretsFile } = await rotation()
    const { secrets, dropped } = pruneKeys(await readSecrets(path), clock.nowSeconds())
    if (dropped.length > 0) await writeSecretsFile(path, secrets)
    const ring = ringOf(path, secrets)
    return print(io, args, { dropped, ...ring }, () =>
      `${dropped.length === 0 ? 'nothing to drop' : `dropped ${dropped.join(', ')}`} (${path})\n${ringText(ring)}`)
  },
}

export const secretsCommands: ReadonlyArray<Command> = [rotate, activate, prune]
