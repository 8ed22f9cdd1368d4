#!/usr/bin/python3
"""A ttsd client in Python: submit a config, follow the job to its end, save its validation audio,
and fetch its newest checkpoint (checked against its sha256).

Uses Debian's python3-grpcio and the stubs `make` generates from proto/ttsd/v1/ttsd.proto:

    PYTHONPATH=build/proto/python /usr/bin/python3 examples/python_client.py examples/quickstart.yaml

Exit status: 0 when the job succeeded, 1 when it ended otherwise, 2 for a refused config, 3 when no
daemon answers.
"""
import argparse
import hashlib
import os
import sys
import time
import uuid

import grpc

from ttsd.v1 import ttsd_pb2, ttsd_pb2_grpc


def default_addr():
    if os.environ.get("TTSD_ADDR"):
        return os.environ["TTSD_ADDR"]
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return "unix://" + os.path.join(data, "ttsd", "ttsd.sock")


def channel_for(addr, token_file):
    target = addr[len("tcp://"):] if addr.startswith("tcp://") else addr
    channel = grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 64 << 20)])
    metadata = []
    if token_file:
        with open(token_file) as f:
            metadata.append(("authorization", "Bearer " + f.readline().strip()))
    return channel, metadata


def state_name(value):
    return ttsd_pb2.JobState.Name(value).replace("JOB_STATE_", "")


def watch(stub, metadata, job_id, samples_dir):
    """Follows the job; on a broken stream, reconnects after the last seq seen. Returns the final state."""
    cursor = 0
    while True:
        request = ttsd_pb2.WatchJobRequest(job_id=job_id, after_seq=cursor, follow=True)
        try:
            for event in stub.WatchJob(request, metadata=metadata):
                cursor = event.seq or cursor
                kind = event.WhichOneof("event")
                if kind == "progress":
                    p = event.progress
                    print(f"step {p.step}/{p.total_steps} loss {p.losses.get('train/loss', float('nan')):.4f}",
                          flush=True)
                elif kind == "validation":
                    v = event.validation
                    print(f"validation step {v.step}: val/loss {v.metrics.get('val/loss', float('nan')):.4f}")
                elif kind == "sample":
                    s = event.sample
                    os.makedirs(os.path.join(samples_dir, str(job_id)), exist_ok=True)
                    path = os.path.join(samples_dir, str(job_id), f"step{s.step}-{s.tag}.wav")
                    with open(path, "wb") as f:
                        f.write(s.wav)
                    print(f"audio step {s.step}: {path}")
                elif kind == "state":
                    print("state", state_name(event.state.state), event.state.message)
                elif kind == "end":
                    return event.end.final_state
        except grpc.RpcError as e:
            if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL):
                raise
            print(f"connection lost ({e.details()}); reconnecting after event {cursor}", file=sys.stderr)
            time.sleep(1)


def fetch_newest_checkpoint(stub, metadata, job_id, out_path):
    request = ttsd_pb2.GetArtifactRequest(job_id=job_id, kind=ttsd_pb2.ARTIFACT_KIND_CHECKPOINT, step=0)
    digest = hashlib.sha256()
    expected = ""
    with open(out_path, "wb") as f:
        for chunk in stub.GetArtifact(request, metadata=metadata):
            f.write(chunk.data)
            digest.update(chunk.data)
            expected = chunk.sha256 or expected
    if digest.hexdigest() != expected:
        raise RuntimeError(f"{out_path}: sha256 mismatch")
    print(f"checkpoint {out_path} ({os.path.getsize(out_path)} bytes, sha256 ok)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="training config (YAML)")
    parser.add_argument("--addr", default=default_addr(), help="unix:///path/ttsd.sock or tcp://host:port")
    parser.add_argument("--token-file", default=os.environ.get("TTSD_TOKEN_FILE"))
    parser.add_argument("--samples-dir", default="samples")
    parser.add_argument("--checkpoint-out", help="save the job's newest checkpoint here")
    args = parser.parse_args()

    channel, metadata = channel_for(args.addr, args.token_file)
    stub = ttsd_pb2_grpc.TrainingServiceStub(channel)
    with open(args.config) as f:
        request = ttsd_pb2.SubmitJobRequest(config_yaml=f.read(),
                                            config_dir=os.path.dirname(os.path.abspath(args.config)),
                                            request_id=str(uuid.uuid4()))
    try:
        reply = stub.SubmitJob(request, metadata=metadata, timeout=30)
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.INVALID_ARGUMENT:
            print(f"{args.config}: refused, nothing queued:\n{e.details()}", file=sys.stderr)
            return 2
        if e.code() == grpc.StatusCode.UNAVAILABLE:
            print(f"no ttsd answering at {args.addr} (start one with `ttsd serve`)", file=sys.stderr)
            return 3
        raise
    job_id = reply.job.id
    print(f"job {job_id} queued")
    final = watch(stub, metadata, job_id, args.samples_dir)
    print(f"job {job_id} {state_name(final)}")
    if args.checkpoint_out:
        fetch_newest_checkpoint(stub, metadata, job_id, args.checkpoint_out)
    return 0 if final == ttsd_pb2.JOB_STATE_SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
