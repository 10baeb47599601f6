/** The plugin contract's event map, at the type level: `onEvent`'s `type` narrows its `payload`. */
import { describe, expectTypeOf, it } from 'vitest'
import {
  definePlugin,
  type EventType,
  type GantryEvents,
  type PluginEvent,
  type PluginHooks,
} from '../../core/contract.js'

describe('the typed event map (checked by tsc)', () => {
  it('names every event with its payload', () => {
    expectTypeOf<EventType>().toEqualTypeOf<keyof GantryEvents>()
    expectTypeOf<GantryEvents['call.finished']['status']>().toEqualTypeOf<'succeeded' | 'failed'>()
    expectTypeOf<Extract<PluginEvent, ['wallet.points', unknown]>[1]>().toEqualTypeOf<
      GantryEvents['wallet.points']
    >()
  })

  it('narrows the payload by the type in a hook', () => {
    definePlugin({
      name: 'narrowing',
      hooks: {
        onEvent(type, payload) {
          if (type === 'call.finished') expectTypeOf(payload).toEqualTypeOf<GantryEvents['call.finished']>()
          if (type === 'ability-task.status') expectTypeOf(payload.task.status).toBeString()
          if (type === 'wallet.points') {
            // @ts-expect-error a wallet event has no duration
            void payload.durationMs
          }
        },
      },
    })
  })

  it('still takes hooks written against the old `(type: string, payload: unknown)`', () => {
    const old = { onEvent(_type: string, _payload: unknown) {} }
    expectTypeOf(old).toMatchTypeOf<PluginHooks>()
    definePlugin({ name: 'old', hooks: old })
  })
})
