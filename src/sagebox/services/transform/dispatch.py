"""Moving a transform job's data through its instances, in parallel, in order.

One producer (the job's own thread) reads each input object, splits it into
batches and queues them; one worker thread per concurrent transform on each
instance sends batches to /invocations; each input object's output is written in
batch order as answers come back, and uploaded once the whole object is done. An
object whose processing did not finish is never uploaded.

When the model rejects a request of several records, the batch is halved and sent
again until the first record the model rejects on its own is found, so that the
job's FailureReason names the object and the line (or RecordIO record) at fault.

An instance that stops answering for good (its server process ended, /ping unanswered
after the retries: on a cluster, its node lost) is taken out: the batch it was sending
goes to another instance, its workers end and the other instances' workers take the
rest of the queue. When none is left the job fails naming the lost instances and hosts.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.services.jobs import JobFailure
from sagebox.services.transform.data_processing import DataProcessing, RecordProcessingError
from sagebox.services.transform.inputs import InputDataError, InputObject, read_chunks
from sagebox.services.transform.instances import Answer, InvocationFailed, TransformInstance
from sagebox.services.transform.outputs import OutputFile, split_answer
from sagebox.services.transform.records import (
    Batch,
    Record,
    RecordError,
    compact,
    iter_lines,
    iter_recordio,
    line_batches,
    record_batches,
    whole_object,
)

log = logging.getLogger(__name__)

NO_LIMIT = 1 << 62


@dataclass(frozen=True)
class TransformOptions:
    split_type: str
    multi_record: bool
    payload_limit: int  # bytes; 0 when MaxPayloadInMB is 0 (no limit)
    content_type: str | None
    accept: str | None
    assemble_lines: bool
    gzip: bool
    timeout: float
    retries: int
    output_path: str
    processing: DataProcessing
    concurrency: int  # requests in flight per instance


class _InstanceLost(Exception):
    """The instance a batch was sent to no longer runs or answers."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Task:
    output: OutputFile
    sequence: int
    batch: Batch


class Dispatcher:
    def __init__(
        self,
        options: TransformOptions,
        objects: ObjectStore,
        instances: list[TransformInstance],
        scratch: Path,
        stop: threading.Event,
    ) -> None:
        self._options = options
        self._objects = objects
        self._instances = instances
        self._scratch = scratch
        self._stop = stop
        self._failure: str | None = None
        self._lock = threading.Lock()
        self._turn = 0
        self._last_loss = ""
        workers = len(instances) * options.concurrency
        self._queue: queue.Queue[_Task | None] = queue.Queue(maxsize=2 * workers)
        # The model servers answer plain HTTP (on the loopback interface, or on their
        # cluster node's address): without TLS there is no certificate store to load,
        # which costs 30-40 ms of CPU per client.
        self._client = httpx.Client(limits=httpx.Limits(max_connections=2 * workers), verify=False)
        self._workers = [
            threading.Thread(target=self._work, args=(instances[n % len(instances)],), name=f"transform-{n}", daemon=True)
            for n in range(workers)
        ]

    @property
    def halted(self) -> bool:
        return self._stop.is_set() or self._failure is not None

    def run(self, inputs: list[InputObject]) -> None:
        """Transforms every input; JobFailure with the first failure's reason."""
        self._scratch.mkdir(parents=True, exist_ok=True)
        for worker in self._workers:
            worker.start()
        try:
            for number, item in enumerate(inputs):
                if self.halted:
                    break
                self._produce(item, self._scratch / f"{number}.out")
        finally:
            for _ in self._workers:
                self._end_one_worker()
            for worker in self._workers:
                worker.join()
            self._client.close()
        if self._failure is not None and not self._stop.is_set():
            raise JobFailure(self._failure)

    def _end_one_worker(self) -> None:
        """Queues one worker's end; gives up once none runs (the workers of lost instances
        end by themselves, and a queue nobody reads any more may be full)."""
        while any(worker.is_alive() for worker in self._workers):
            try:
                self._queue.put(None, timeout=0.1)
                return
            except queue.Full:
                continue

    def fail(self, reason: str) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = reason

    # -- producing ----------------------------------------------------------------------

    def _produce(self, item: InputObject, path: Path) -> None:
        options = self._options
        output = OutputFile(
            item,
            path,
            item.output_uri(options.output_path),
            upload=self._upload,
        )
        sequence = 0
        try:
            for batch in self._batches(item):
                if not self._enqueue(_Task(output, sequence, batch)):
                    output.discard()
                    return
                sequence += 1
        except RecordError as exc:
            self.fail(self._reason(item.uri, exc.position, exc.message))
        except InputDataError as exc:
            self.fail(str(exc))
        if self.halted:
            output.discard()
            return
        self._finish(output.close_input(sequence))

    def _batches(self, item: InputObject) -> Iterator[Batch]:
        options = self._options
        chunks = read_chunks(self._objects, item, options.gzip)
        limit = options.payload_limit
        if options.split_type == "None":
            batch = whole_object(chunks, limit)
            if batch.record_list()[0].data:
                yield batch
        elif options.split_type == "RecordIO":
            yield from record_batches(iter_recordio(chunks), multi_record=options.multi_record, limit=limit)
        elif options.multi_record and not options.processing.active:
            yield from line_batches(chunks, limit or NO_LIMIT)
        else:
            yield from record_batches(iter_lines(chunks), multi_record=options.multi_record, limit=limit)

    def _enqueue(self, task: _Task) -> bool:
        while not self.halted:
            try:
                self._queue.put(task, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    # -- working ------------------------------------------------------------------------

    def _work(self, instance: TransformInstance) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            if self._process(instance, task):
                continue
            # Its instance is gone: the batch goes to another one, and this worker ends,
            # so that each remaining instance keeps its MaxConcurrentTransforms.
            while (survivor := self._survivor()) is not None:
                if self._process(survivor, task):
                    break
            return

    def _process(self, instance: TransformInstance, task: _Task) -> bool:
        """Transforms one batch and writes its answer; False when `instance` was lost."""
        if self.halted:
            task.output.discard()
            return True
        try:
            data = self._transform(instance, task)
            self._finish(task.output.deliver(task.sequence, data))
        except _InstanceLost as exc:
            self._lose(instance, exc.message)
            return False
        except JobFailure as exc:
            self.fail(exc.reason)
        except Exception as exc:
            log.exception("transform worker failed on %s", task.output.item.uri)
            self.fail(f"InternalServerError: sagebox could not transform {task.output.item.uri}: {exc!r}")
        return True

    def _lose(self, instance: TransformInstance, message: str) -> None:
        with self._lock:
            if instance.lost:
                return
            instance.lost = True
            self._last_loss = message
        survivors = [i.index for i in self._instances if not i.lost]
        taken_over = (
            f"its batches go to instance(s) {', '.join(map(str, survivors))}"
            if survivors
            else "no instance is left"
        )
        line = f"sagebox: transform {instance.where()} stopped answering ({message}); {taken_over}"
        log.warning("%s", line)
        instance.note(line)

    def _survivor(self) -> TransformInstance | None:
        """An instance not lost, in turn; None, with the job failed, when every one was."""
        with self._lock:
            alive = [i for i in self._instances if not i.lost]
            if alive:
                self._turn += 1
                return alive[self._turn % len(alive)]
        lost = "; ".join(i.where() for i in self._instances)
        self.fail(
            f"ClientError: every instance of the transform job was lost: {lost}. "
            f"The last one: {self._last_loss}"
        )
        return None

    def _finish(self, output: OutputFile | None) -> None:
        """Uploads an output whose every batch has been written (None: not yet)."""
        if output is not None and not self.halted:
            output.finalize()

    def _upload(self, path: Path, uri: str) -> None:
        try:
            self._objects.upload_file(path, uri, content_type=self._options.accept)
        except ObjectStoreError as exc:
            raise JobFailure(f"ClientError: could not upload the output {uri}: {exc.code}: {exc.message}") from exc

    def _transform(self, instance: TransformInstance, task: _Task) -> bytes:
        options, batch = self._options, task.batch
        uri = task.output.item.uri
        if batch.records is None:  # lines sent exactly as read
            answer = self._invoke(instance, compact(batch.payload), batch, uri)
            return _assembled(answer.body, options.assemble_lines)
        records = batch.record_list()
        answer = self._invoke(instance, self._payload(records, uri), batch, uri)
        processing = options.processing
        if not processing.active:
            return _assembled(answer.body, options.assemble_lines)
        try:
            outputs = split_answer(answer.body, answer.content_type, len(records))
        except ValueError as exc:
            raise JobFailure(self._reason(uri, batch.position(), str(exc))) from exc
        lines = []
        for record, output in zip(records, outputs, strict=True):
            try:
                lines.append(processing.output_record(record.data, output, answer.content_type))
            except RecordProcessingError as exc:
                raise JobFailure(self._reason(uri, f"line {record.number}", str(exc))) from exc
        if options.assemble_lines:
            return b"".join(line + b"\n" for line in lines)
        # AssembleWith None: the answer as the model gave it, record by record processed.
        return b"\n".join(lines) + (b"\n" if answer.body.endswith(b"\n") else b"")

    def _payload(self, records: list[Record], uri: str) -> bytes:
        options = self._options
        if options.split_type == "RecordIO":
            return b"".join(r.framed for r in records) if options.multi_record else records[0].data
        bodies = []
        for record in records:
            try:
                bodies.append(options.processing.request_record(record.data))
            except RecordProcessingError as exc:
                raise JobFailure(self._reason(uri, f"line {record.number}", str(exc))) from exc
        if options.split_type == "Line" and options.multi_record:
            return b"\n".join(bodies) + b"\n"
        return bodies[0] if len(bodies) == 1 else b"\n".join(bodies)

    def _invoke(self, instance: TransformInstance, payload: bytes, batch: Batch, uri: str) -> Answer:
        try:
            return self._send(instance, payload, self._options.retries)
        except InvocationFailed as exc:
            if self.halted:
                raise JobFailure("stopped") from exc
            if instance.gone(exc):
                raise _InstanceLost(exc.message) from exc
            position, message = self._locate(instance, batch, uri, exc)
            raise JobFailure(self._reason(uri, position, message)) from exc

    def _reason(self, uri: str, position: str | None, message: str) -> str:
        """A FailureReason naming the object and, when split, the record."""
        if position and self._options.split_type != "None":
            return f"ClientError: {uri}, {position}: {message}"
        return f"ClientError: {uri}: {message}"

    def _send(self, instance: TransformInstance, payload: bytes, retries: int) -> Answer:
        options = self._options
        return instance.invoke(
            self._client,
            payload,
            content_type=options.content_type,
            accept=options.accept,
            timeout=options.timeout,
            retries=retries,
        )

    def _locate(
        self, instance: TransformInstance, batch: Batch, uri: str, failure: InvocationFailed
    ) -> tuple[str, str]:
        """Narrows a failed multi-record request down to its first failing record."""
        records = batch.record_list()
        if not failure.model_error or len(records) < 2:
            return batch.position(), failure.message
        low, high, message = 0, len(records), failure.message
        alone = False  # whether records[low] on its own is known to fail
        while high - low > 1 and not self.halted:
            middle = (low + high) // 2
            try:
                self._send(instance, self._payload(records[low:middle], uri), 0)
                low, alone = middle, False
            except InvocationFailed as exc:
                if not exc.model_error:
                    break
                high, message, alone = middle, exc.message, middle - low == 1
        if high - low == 1 and not alone and not self.halted:
            try:
                self._send(instance, self._payload(records[low:high], uri), 0)
            except InvocationFailed as exc:
                alone, message = exc.model_error, exc.message
        if high - low == 1 and alone:
            unit = "record" if records[low].framed else "line"
            return f"{unit} {records[low].number}", message
        return batch.position(), failure.message


def _assembled(body: bytes, lines: bool) -> bytes:
    """AssembleWith Line ends every answer with a newline; None keeps bodies as they are."""
    if lines and body and not body.endswith(b"\n"):
        return body + b"\n"
    return body
