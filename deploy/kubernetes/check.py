#!/usr/bin/python3
"""Check the Kubernetes manifests in this folder without a cluster.

    /usr/bin/python3 deploy/kubernetes/check.py [FILE.yaml ...]
    /usr/bin/python3 deploy/kubernetes/check.py --print-command JOB.yaml INDEX

`kubectl apply --dry-run=client` cannot do it here: even a client-side dry
run asks an API server for its OpenAPI document and its resource list, so
without a cluster it fails with "connection refused". This script checks
instead against the API's types as the official Python client (Debian's
python3-kubernetes, generated from the Kubernetes OpenAPI spec) defines
them:

1. schema: every object has apiVersion, kind and metadata.name; every key
   is a field of its type (an unknown or misspelt key is an error, as with
   kubectl's strict validation); every value has its field's type (string,
   integer, boolean, list, map, object); every required field is there (the
   client's own "must not be None" checks); enumerated values are checked by
   the client's setters and, for the fields the client leaves open, by the
   table ENUMS below (from the API reference);
2. consistency of the sharded batch: the Indexed Job's completions equals
   the N of its --shard $(JOB_COMPLETION_INDEX)/N and its parallelism is at
   most N; every $(VAR) in command/args is defined (JOB_COMPLETION_INDEX only
   in an Indexed Job); a Job's pods restart Never or OnFailure (the API
   server refuses others); every Job mounts the PersistentVolumeClaim that is
   shipped; every Job uses the same image.

Exit codes: 0 all good; 1 a problem (each printed as FILE: PATH: message);
2 the script cannot run (python3-kubernetes or python3-yaml missing).
"""
import glob
import os
import re
import sys

try:
    import kubernetes
    import yaml
    from kubernetes import client
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"check.py: {e}: install Debian's python3-kubernetes and python3-yaml "
          "and run it with /usr/bin/python3", file=sys.stderr)
    sys.exit(2)

# The API groups the manifests may use and the client's class prefix.
GROUPS = {"v1": "V1", "batch/v1": "V1"}
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")

# Enumerations the API documents but python3-kubernetes 22 does not check
# (its setters check only some): (type, field) -> allowed values.
ENUMS = {
    ("V1JobSpec", "completion_mode"): {"NonIndexed", "Indexed"},
    ("V1PodSpec", "restart_policy"): {"Always", "OnFailure", "Never"},
    ("V1Container", "image_pull_policy"): {"Always", "Never", "IfNotPresent"},
    ("V1PersistentVolumeClaimSpec", "access_modes"):
        {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"},
}

problems = []


def problem(where, msg):
    problems.append(f"{where}: {msg}")


def required_fields(cls):
    """The attributes whose setter refuses None: the schema's required."""
    conf = client.Configuration()
    conf.client_side_validation = True
    req = []
    for attr in cls.openapi_types:
        obj = cls.__new__(cls)
        obj.local_vars_configuration = conf
        try:
            setattr(obj, attr, None)
        except ValueError:
            req.append(attr)
    return req


def check_value(value, typ, where):
    if typ == "object":
        return
    if typ == "str" or typ == "datetime":
        if not isinstance(value, str):
            problem(where, f"must be a string, not {type(value).__name__} {value!r}")
        return
    if typ == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            problem(where, f"must be an integer, not {value!r}")
        return
    if typ == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problem(where, f"must be a number, not {value!r}")
        return
    if typ == "bool":
        if not isinstance(value, bool):
            problem(where, f"must be true or false, not {value!r}")
        return
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            problem(where, f"must be a list, not {value!r}")
            return
        for i, v in enumerate(value):
            check_value(v, m.group(1), f"{where}[{i}]")
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if not isinstance(value, dict):
            problem(where, f"must be a map, not {value!r}")
            return
        for k, v in value.items():
            if not isinstance(k, str):
                problem(where, f"key {k!r} must be a string")
            check_value(v, m.group(1), f"{where}.{k}")
        return
    cls = getattr(client, typ, None)
    if cls is None:
        problem(where, f"check.py does not know the type {typ}")
        return
    check_object(value, cls, where)


def check_object(value, cls, where):
    if not isinstance(value, dict):
        problem(where, f"must be an object ({cls.__name__}), not {value!r}")
        return
    by_json = {j: a for a, j in cls.attribute_map.items()}
    for key, v in value.items():
        attr = by_json.get(key)
        if attr is None:
            problem(f"{where}.{key}", f"unknown field of {cls.__name__} "
                    f"(known: {', '.join(sorted(by_json))})")
            continue
        typ = cls.openapi_types[attr]
        check_value(v, typ, f"{where}.{key}")
        allowed = ENUMS.get((cls.__name__, attr))
        if allowed is not None:
            for item in v if isinstance(v, list) else [v]:
                if item not in allowed:
                    problem(f"{where}.{key}", f"{item!r} is not one of {sorted(allowed)}")
        if typ in ("str", "int", "bool"):
            # The client's setter checks enumerations and bounds.
            obj = cls.__new__(cls)
            obj.local_vars_configuration = client.Configuration()
            try:
                setattr(obj, attr, v)
            except ValueError as e:
                problem(f"{where}.{key}", str(e))
    for attr in required_fields(cls):
        if cls.attribute_map[attr] not in value:
            problem(where, f"missing required field {cls.attribute_map[attr]}")


def check_document(doc, where):
    if not isinstance(doc, dict):
        problem(where, "a manifest must be a map")
        return None
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if api not in GROUPS:
        problem(where, f"apiVersion {api!r} is not one of {sorted(GROUPS)}")
        return None
    cls = getattr(client, GROUPS[api] + str(kind), None)
    if cls is None:
        problem(where, f"unknown kind {kind!r} in {api}")
        return None
    where = f"{where}: {kind}"
    check_object(doc, cls, where)
    name = (doc.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not DNS1123.match(name) or len(name) > 63:
        problem(where, f"metadata.name {name!r} must be a DNS-1123 name")
    return kind


def containers(job):
    spec = (((job.get("spec") or {}).get("template") or {}).get("spec") or {})
    return spec.get("containers") or [], spec.get("volumes") or []


def check_batch(docs):
    pvcs = {d["metadata"]["name"] for _, d in docs if d.get("kind") == "PersistentVolumeClaim"}
    images = set()
    indexed = 0
    for where, job in docs:
        if job.get("kind") != "Job":
            continue
        where = f"{where}: Job {job['metadata']['name']}"
        spec = job.get("spec") or {}
        is_indexed = spec.get("completionMode") == "Indexed"
        ctrs, vols = containers(job)
        policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        if policy not in ("Never", "OnFailure"):
            problem(where, f"a Job's pods need restartPolicy Never or OnFailure, not {policy!r}")
        for v in vols:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim is not None and claim not in pvcs:
                problem(where, f"volume {v.get('name')} claims {claim!r}, which no manifest "
                        f"here defines (PersistentVolumeClaims: {sorted(pvcs)})")
        for c in ctrs:
            images.add(c.get("image"))
            defined = {e.get("name") for e in c.get("env") or []}
            if is_indexed:
                defined.add("JOB_COMPLETION_INDEX")
            words = [str(w) for w in (c.get("command") or []) + (c.get("args") or [])]
            for w in words:
                for var in VAR_REF.findall(w):
                    if var not in defined:
                        problem(where, f"$({var}) in {w!r} is not defined in the container "
                                "(Kubernetes would leave it as it is)")
            if is_indexed:
                indexed += 1
                shards = [m for w in words
                          for m in re.findall(r"\$\(JOB_COMPLETION_INDEX\)/(\d+)", w)]
                if len(shards) != 1:
                    problem(where, "an Indexed Job must pass --shard $(JOB_COMPLETION_INDEX)/N once")
                    continue
                n = int(shards[0])
                if spec.get("completions") != n:
                    problem(where, f"completions {spec.get('completions')} != N {n} of --shard")
                if spec.get("parallelism", 1) > n:
                    problem(where, f"parallelism {spec.get('parallelism')} > N {n}")
    if indexed == 0:
        problem("manifests", "no Indexed Job running swarmsim batch --shard")
    if len(images) > 1:
        problem("manifests", f"the Jobs use different images: {sorted(map(str, images))}")


def print_command(path, index):
    """The first container's command and args in a Job of PATH as the kubelet
    runs them in pod INDEX: $(VAR) expanded from the container's env and
    JOB_COMPLETION_INDEX; one word per line. (deploy/swarm/test.sh runs them
    in the image on Docker.)"""
    with open(path, encoding="utf-8") as fh:
        job = yaml.safe_load(fh)
    ctrs, _ = containers(job)
    env = {e["name"]: str(e.get("value", "")) for e in ctrs[0].get("env") or []}
    env["JOB_COMPLETION_INDEX"] = str(index)
    for w in (ctrs[0].get("command") or []) + (ctrs[0].get("args") or []):
        word = VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)), str(w))
        if "\n" in word:
            print(f"check.py: a word with a newline in {path}", file=sys.stderr)
            return 1
        print(word)
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--print-command":
        return print_command(argv[2], int(argv[3]))
    here = os.path.dirname(os.path.abspath(__file__))
    files = argv[1:] or sorted(glob.glob(os.path.join(here, "*.yaml")))
    docs = []
    for f in files:
        name = os.path.relpath(f)
        if name.startswith(".."):
            name = f
        try:
            with open(f, encoding="utf-8") as fh:
                loaded = list(yaml.safe_load_all(fh))
        except (OSError, yaml.YAMLError) as e:
            problem(name, str(e))
            continue
        for i, doc in enumerate(loaded):
            if doc is None:
                continue
            where = name if len(loaded) == 1 else f"{name}[{i}]"
            if check_document(doc, where):
                docs.append((where, doc))
    if not problems:
        check_batch(docs)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    kinds = ", ".join(f"{d['kind']} {d['metadata']['name']}" for _, d in docs)
    print(f"check.py: {len(docs)} manifests valid against the API types of "
          f"python3-kubernetes {kubernetes.__version__}: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
