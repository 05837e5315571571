// Types of @perso/browser/react.
import type { Perso, SlotDecision } from "./index.js";

export interface UsePersoSlotOptions {
  /** false: do not record the exposure when the decision is on the screen; call
   * perso.shown(slot) yourself. Default true. */
  shown?: boolean;
  /** Another perso object than the one this package installed (tests). */
  perso?: Perso;
}

/** The slot's current decision (null until the first one); the component renders again
 * when it changes, and the exposure is recorded once the decision is on the screen. */
export declare function usePersoSlot(slot: string, options?: UsePersoSlotOptions): SlotDecision | null;
