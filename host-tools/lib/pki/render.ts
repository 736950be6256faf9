/** Renders the handlebars templates in host-tools/templates (plain text, no HTML escaping). */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

export const TEMPLATE_DIR = path.resolve(__dirname, '..', '..', 'templates');

export type TemplateName = 'certs.h' | 'mosquitto_tls.conf' | 'acl' | 'env' | 'install-steps' | 'install-changes';

const cache = new Map<TemplateName, Handlebars.TemplateDelegate>();

/** The one-line install commands in templates/install/ (`{{> install/passwd}}`), shared by the full steps and the change steps. */
function registerPartials(): void {
  const dir = path.join(TEMPLATE_DIR, 'install');
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith('.hbs')) Handlebars.registerPartial(`install/${f.slice(0, -'.hbs'.length)}`, fs.readFileSync(path.join(dir, f), 'utf8'));
  }
}

export function render(name: TemplateName, data: object): string {
  if (cache.size === 0) registerPartials();
  let tpl = cache.get(name);
  if (!tpl) {
    const source = fs.readFileSync(path.join(TEMPLATE_DIR, `${name}.hbs`), 'utf8');
    tpl = Handlebars.compile(source, { noEscape: true, strict: true });
    cache.set(name, tpl);
  }
  return tpl(data);
}
