/**
 * @module key-ring
 * The signing key ring in one import: the ring itself and its reloadable wrapper.
 */
export { createKeyRing, type KeyRing } from './create-key-ring.js'
export { createReloadableKeyRing, type ReloadableKeyRing } from './reloadable-key-ring.js'
export { encodeHeader, retiredKeyLifetimeSeconds } from './signing-key.js'
