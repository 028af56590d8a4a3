// The page: plain browser code. window.ctap is what the preload exposed.
import type { CtapPageApi } from 'ctap-bridge/electron/preload';

declare global {
  interface Window {
    ctap: CtapPageApi;
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>('status');
const out = $<HTMLPreElement>('out');

/** A real app gets its options from its server; the example makes a random challenge itself. */
function randomB64url(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function show(label: string, value: unknown): void {
  status.textContent = label;
  out.textContent = JSON.stringify(value, null, 2);
}

function showError(e: unknown): void {
  const err = e as { name?: string; message?: string; ctap?: string };
  // err.name is the WebAuthn name: NotAllowedError, InvalidStateError, SecurityError, AbortError, …
  status.textContent = `${err.name ?? 'Error'}: ${err.message ?? String(e)}${err.ctap ? ` (${err.ctap})` : ''}`;
  out.textContent = '';
}

$('register').addEventListener('click', async () => {
  const name = $<HTMLInputElement>('user').value || 'user';
  status.textContent = 'Touch your security key…';
  try {
    const credential = await window.ctap.create({
      rp: { id: location.hostname, name: 'ctap-bridge example' },
      user: { id: randomB64url(16), name, displayName: name },
      challenge: randomB64url(32),
      pubKeyCredParams: [
        { type: 'public-key', alg: -7 },
        { type: 'public-key', alg: -8 },
      ],
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      excludeCredentials: (JSON.parse(localStorage.getItem('credentials') ?? '[]') as string[]).map((id) => ({ type: 'public-key', id })),
      extensions: { credProps: true },
    });
    const ids = new Set(JSON.parse(localStorage.getItem('credentials') ?? '[]') as string[]);
    ids.add(credential.id);
    localStorage.setItem('credentials', JSON.stringify([...ids]));
    show('Registered. Send this RegistrationResponseJSON to your server:', credential);
  } catch (e) {
    showError(e);
  }
});

$('signin').addEventListener('click', async () => {
  status.textContent = 'Touch your security key…';
  try {
    const ids = JSON.parse(localStorage.getItem('credentials') ?? '[]') as string[];
    const assertion = await window.ctap.get({
      challenge: randomB64url(32),
      rpId: location.hostname,
      allowCredentials: ids.map((id) => ({ type: 'public-key', id })),
      userVerification: 'preferred',
    });
    show('Signed in. Send this AuthenticationResponseJSON to your server:', assertion);
  } catch (e) {
    showError(e);
  }
});

$('cancel').addEventListener('click', () => {
  void window.ctap.cancel();
});
