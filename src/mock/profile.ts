/**
 * Which model tags and voices the simulator serves (hydra-protocol §2.3, §10.1). Kept apart from
 * src/models.ts on purpose: the simulator follows the protocol doc, not the client's view of it.
 */

/** The server behaviour to imitate: launch (May 2026) or after the V1.1 release (Aug 2026). */
export type Profile = 'may-2026' | 'aug-2026';

const MAY_VOICES = ['wren', 'sloane', 'marlowe', 'reed', 'knox', 'tate'] as const;
const V1_0_VOICES = ['vaughn', 'brooks', 'cole', 'hayes', 'pierce', 'sterling', 'ellis', 'lane', 'quinn', 'arden', 'rowan', 'blair', 'emery', 'sawyer'] as const;
const V1_1_VOICES = ['zoe', 'maya', 'elena', 'ivy', 'grace', 'alex', 'aria', 'leo', 'sam', 'kai'] as const;

/** What a model tag means under a profile. */
export type ModelRules = {
  readonly model: string;
  readonly voices: readonly string[];
  readonly defaultVoice: string;
  /** Unknown voices: silently replaced (May docs) or rejected with an error (Aug probe). */
  readonly unknownVoice: 'fallback' | 'reject';
  readonly outputSampleRate: number;
  /** Set for a deprecated tag: the tag the `warning` frame names (§2.8). */
  readonly migrateTo?: string;
};

/** The rules for `model` under `profile`, or undefined when the tag is not served (→ HTTP 400). */
export function modelRules(profile: Profile, model: string): ModelRules | undefined {
  if (profile === 'may-2026') {
    return model === 'hydra'
      ? { model, voices: MAY_VOICES, defaultVoice: 'wren', unknownVoice: 'fallback', outputSampleRate: 48000 }
      : undefined;
  }
  switch (model) {
    case 'hydra-v1.1': // §2.4: 24 kHz observed on v1.1; §2.3: default `sterling` although not in its roster
      return { model, voices: V1_1_VOICES, defaultVoice: 'sterling', unknownVoice: 'reject', outputSampleRate: 24000 };
    case 'hydra-v1.0':
      return { model, voices: V1_0_VOICES, defaultVoice: 'sterling', unknownVoice: 'reject', outputSampleRate: 48000 };
    case 'hydra':
      // Deprecated but still served with its own roster: the project's reading of the service today
      // (the August probe in §2.3 saw the May names rejected; the team's confirmed contract is that
      // wren…tate still work on model=hydra). The 24 newer ids are accepted too, as the probe saw.
      return {
        model,
        voices: [...MAY_VOICES, ...V1_0_VOICES, ...V1_1_VOICES],
        defaultVoice: 'wren',
        unknownVoice: 'reject',
        outputSampleRate: 48000,
        migrateTo: 'hydra-v1.0',
      };
    default:
      return undefined;
  }
}

/** The voice a session gets, and whether the requested one was rejected (§2.3, §10.3). */
export function resolveVoice(rules: ModelRules, requested: string | undefined): { voice: string; rejected: boolean } {
  if (requested === undefined || requested === rules.defaultVoice || rules.voices.includes(requested)) {
    return { voice: requested ?? rules.defaultVoice, rejected: false };
  }
  return { voice: rules.defaultVoice, rejected: rules.unknownVoice === 'reject' };
}
