import { statfs } from 'node:fs/promises';
import { SluiceError, messageOf } from './errors.js';

/**
 * Below this much free space, a write failure of the store is put down to the disk being full.
 * DuckDB reports I/O failures only as text, so the filesystem is asked instead; a checkpoint
 * writes blocks of 256 KiB and buffers a few of them, so a disk with less than this left cannot
 * take one.
 */
export const LOW_SPACE_BYTES = 16 * 1024 * 1024;

/** Whether a Node fs call failed with ENOSPC, here or anywhere down the cause chain. */
export function isNoSpace(e: unknown): boolean {
  let c: unknown = e;
  for (let depth = 0; c && depth < 8; depth++) {
    if ((c as NodeJS.ErrnoException).code === 'ENOSPC') return true;
    c = (c as { cause?: unknown }).cause;
  }
  return false;
}

/** Bytes an unprivileged writer may still use on the filesystem holding `path`; null if unknown. */
export async function freeBytes(path: string): Promise<number | null> {
  try {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * The one error for a full disk, wherever it hit: names the path and what was being written, and
 * keeps the original error as the cause.
 */
export function diskFullError(path: string, what: string, e: unknown): SluiceError {
  return new SluiceError(
    'SLUICE_DISK_FULL',
    `no space left on device at ${path}: ${what} failed (${messageOf(e)}); nothing half-written is kept, and Sluice resumes by itself once space is freed`,
    { cause: e },
  );
}
