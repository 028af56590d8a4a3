// A modal PIN prompt owned by the main process, parented on the window that asked.
import { BrowserWindow, ipcMain, type IpcMainEvent } from 'electron';
import path from 'node:path';

export interface PinPrompt {
  title: string;
  detail: string;
}

/** Resolves with the PIN, or null when the user cancels, closes the dialog, or the ceremony ends. */
export function askPin(parent: BrowserWindow | null, prompt: PinPrompt, signal: AbortSignal, distDir: string): Promise<string | null> {
  return new Promise((resolve) => {
    const dialog = new BrowserWindow({
      ...(parent ? { parent } : {}),
      modal: parent !== null,
      width: 380,
      height: 230,
      resizable: false,
      minimizable: false,
      title: prompt.title,
      webPreferences: { preload: path.join(distDir, 'pin-preload.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false },
    });
    let settled = false;
    const finish = (pin: string | null): void => {
      if (settled) return;
      settled = true;
      ipcMain.removeListener('pin-dialog:answer', onAnswer);
      signal.removeEventListener('abort', onAbort);
      if (!dialog.isDestroyed()) dialog.destroy();
      resolve(pin);
    };
    const onAnswer = (event: IpcMainEvent, pin: unknown): void => {
      if (event.sender !== dialog.webContents) return; // only this dialog may answer
      finish(typeof pin === 'string' && pin.length > 0 ? pin : null);
    };
    const onAbort = (): void => finish(null);
    ipcMain.on('pin-dialog:answer', onAnswer);
    signal.addEventListener('abort', onAbort, { once: true });
    dialog.on('closed', () => finish(null));
    const query = new URLSearchParams({ title: prompt.title, detail: prompt.detail });
    void dialog.loadFile(path.join(distDir, '..', 'static', 'pin.html'), { search: query.toString() });
  });
}
