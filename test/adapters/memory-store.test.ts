/** The store contract on MemoryStore; one in-memory store cannot be opened twice, so sharing is the SQL stores' test. */
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { storeContract } from './store-contract.js'

storeContract(
  'memory',
  async () => {
    const store = new MemoryStore()
    return { store, cleanup: () => store.close() }
  },
  { severalInstances: false },
)
