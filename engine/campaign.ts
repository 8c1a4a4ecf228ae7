// A campaign's queue configuration: when its leads may be called (its window, a preset and the
// rule packs of calling-rules.ts) and what each outcome does.
import { z } from 'zod';
import { callingRulesSchema } from './calling-rules.js';
import type { CallingRules } from './calling-rules.js';
import { callingWindowSchema } from './calling-window.js';
import { dispositionsSchema } from './disposition.js';
import type { Dispositions } from './disposition.js';
import type { CallingWindow } from './calling-window.js';
import { EngineError } from './errors.js';

export const campaignConfigSchema = z
  .object({
    window: callingWindowSchema,
    dispositions: dispositionsSchema,
    callingRules: callingRulesSchema.optional(),
  })
  .superRefine((c, ctx) => {
    // A lockout on a code the campaign does not have would never fire: refuse the typo.
    c.callingRules?.packs.forEach((pack, i) => {
      for (const code of pack.lockout?.outcomes ?? []) {
        if (!(code in c.dispositions)) {
          ctx.addIssue({
            code: 'custom',
            path: ['callingRules', 'packs', i, 'lockout', 'outcomes'],
            message: `lockout outcome "${code}" is not one of the campaign's outcome codes`,
          });
        }
      }
    });
  });

export type CampaignConfigInput = z.input<typeof campaignConfigSchema>;

export interface CampaignConfig {
  readonly window: CallingWindow;
  readonly dispositions: Dispositions;
  /** Preset and rule packs (absent: none), checked inside the lease with the window. */
  readonly callingRules?: CallingRules;
}

export function parseCampaignConfig(input: unknown): CampaignConfig {
  const parsed = campaignConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new EngineError('CAMPAIGN_INVALID', z.prettifyError(parsed.error), { issues: parsed.error.issues });
  }
  return parsed.data;
}
