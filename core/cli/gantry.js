#!/usr/bin/env node
// Gantry runs from its TypeScript sources: register the loader, then hand over.
import { register } from 'tsx/esm/api'

register()
await import('./main.ts')
