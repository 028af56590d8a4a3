// The PIN dialog's preload: the dialog page can only submit or cancel.
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('pinDialog', {
  submit: (pin: string): void => ipcRenderer.send('pin-dialog:answer', typeof pin === 'string' ? pin : ''),
  cancel: (): void => ipcRenderer.send('pin-dialog:answer', null),
});
