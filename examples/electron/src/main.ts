// The main process: owns the key, decides the origin, shows the PIN dialog.
import { app, BrowserWindow, dialog, ipcMain } from 'electron';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { registerMainHandlers } from 'ctap-bridge/electron/main';
import { askPin } from './pin-dialog.js';

const distDir = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.join(distDir, '..', 'static');

/**
 * Security keys need a secure origin, and file:// is not one. The example serves its page from
 * http://localhost (a secure context); a packaged app would load its https site, or serve its
 * bundle from localhost like this.
 */
async function serve(): Promise<string> {
  const files: Record<string, [string, string]> = {
    '/': [path.join(staticDir, 'index.html'), 'text/html; charset=utf-8'],
    '/renderer.js': [path.join(distDir, 'renderer.js'), 'text/javascript; charset=utf-8'],
  };
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    readFile(file[0]).then(
      (body) => res.writeHead(200, { 'content-type': file[1] }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://localhost:${(server.address() as AddressInfo).port}`;
}

app.whenReady().then(async () => {
  const origin = await serve();

  registerMainHandlers({
    ipcMain,
    allowOrigins: [origin],
    // Windows without Administrator: Windows' own security-key dialog, parented on the window that asked.
    windowHandle: (req) => BrowserWindow.fromWebContents(req.webContents)?.getNativeWindowHandle(),
    // Every PIN, touch and account prompt is shown by the app, parented on the window that asked.
    interaction: (req) => {
      const parent = BrowserWindow.fromWebContents(req.webContents);
      return {
        'pin-required': (event, { signal }) =>
          askPin(parent, { title: 'Security key PIN', detail: event.retriesLeft !== undefined ? `${event.retriesLeft} attempts left` : 'Enter your PIN' }, signal, distDir),
        'pin-invalid': (event, { signal }) =>
          askPin(parent, { title: 'Wrong PIN', detail: `Try again (${event.retriesLeft ?? '?'} attempts left)` }, signal, distDir),
        'touch-required': () => {
          parent?.setTitle('Touch your security key…');
        },
        'select-account': async (event) => {
          const opts = { message: 'Sign in as', buttons: [...event.accounts.map((a) => a.displayName ?? a.name ?? 'account'), 'Cancel'], cancelId: event.accounts.length };
          const { response } = parent ? await dialog.showMessageBox(parent, opts) : await dialog.showMessageBox(opts);
          return response < event.accounts.length ? response : null;
        },
        'pin-blocked': () => {
          void dialog.showMessageBox({ type: 'error', message: 'This key is locked: too many wrong PINs. It must be reset.' });
        },
      };
    },
  });

  const win = new BrowserWindow({
    width: 820,
    height: 640,
    webPreferences: {
      preload: path.join(distDir, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  await win.loadURL(origin);
});

app.on('window-all-closed', () => app.quit());
