// A follow-up's text from its template and the lead: {{name}}, {{firstName}} and {{fields.KEY}}
// (a field the lead lacks renders empty), and the WhatsApp click-to-chat link that carries it.
import { TEMPLATE_VARIABLE } from '../../db/privacy/index.js';

export interface TemplateLead {
  readonly name: string;
  readonly fields: Readonly<Record<string, string>>;
}

export function renderTemplate(body: string, lead: TemplateLead): string {
  return body.replace(TEMPLATE_VARIABLE, (_m, variable: string) => {
    if (variable === 'name') return lead.name.trim();
    if (variable === 'firstName') return lead.name.trim().split(/\s+/)[0] ?? '';
    return lead.fields[variable.slice('fields.'.length).trim()] ?? '';
  });
}

/**
 * WhatsApp's click-to-chat link (https://faq.whatsapp.com/5913398998672934): the number in
 * international form without "+", and the text URL-encoded. Opened on the device, it starts a
 * chat with the message typed in; the agent sends it from their own WhatsApp.
 */
export function whatsappLink(phoneE164: string, text: string): string {
  return `https://wa.me/${phoneE164.replace(/^\+/, '')}?text=${encodeURIComponent(text)}`;
}
