// Backpressure and endings shared by the writers: a writer must not run ahead
// of a slow client (the rows would pile up in memory), and `write` resolves
// only once its bytes are handed to `out` and `out` has finished.
import { finished } from "node:stream/promises";
import type { Writable } from "node:stream";

/** Resolves when `stream` can take more (at once if it is not backed up); rejects if it fails first. */
export function drained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off("drain", onDrain);
      stream.off("error", onError);
      stream.off("close", onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (error: Error) => done(error);
    const onClose = () => done(new Error("the output stream closed before the export was written"));
    stream.on("drain", onDrain);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
}

/** Resolves when `out` has finished (every byte flushed), rejects on its error. */
export function outputFinished(out: Writable): Promise<void> {
  return finished(out);
}
