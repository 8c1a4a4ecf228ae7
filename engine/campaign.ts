// A campaign's queue configuration: when its leads may be called and what each outcome does.
import { z } from 'zod';
import { callingWindowSchema } from './calling-window.js';
import { dispositionsSchema } from './disposition.js';
import type { Dispositions } from './disposition.js';
import type { CallingWindow } from './calling-window.js';
import { EngineError } from './errors.js';

export const campaignConfigSchema = z.object({
  window: callingWindowSchema,
  dispositions: dispositionsSchema,
});

export type CampaignConfigInput = z.input<typeof campaignConfigSchema>;

export interface CampaignConfig {
  readonly window: CallingWindow;
  readonly dispositions: Dispositions;
}

export function parseCampaignConfig(input: unknown): CampaignConfig {
  const parsed = campaignConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new EngineError('CAMPAIGN_INVALID', z.prettifyError(parsed.error), { issues: parsed.error.issues });
  }
  return parsed.data;
}
