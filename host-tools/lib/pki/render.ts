/** Renders the handlebars templates in host-tools/templates (plain text, no HTML escaping). */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

export const TEMPLATE_DIR = path.resolve(__dirname, '..', '..', 'templates');

export type TemplateName = 'certs.h' | 'mosquitto_tls.conf' | 'acl' | 'env' | 'install-steps';

const cache = new Map<TemplateName, Handlebars.TemplateDelegate>();

export function render(name: TemplateName, data: object): string {
  let tpl = cache.get(name);
  if (!tpl) {
    const source = fs.readFileSync(path.join(TEMPLATE_DIR, `${name}.hbs`), 'utf8');
    tpl = Handlebars.compile(source, { noEscape: true, strict: true });
    cache.set(name, tpl);
  }
  return tpl(data);
}
