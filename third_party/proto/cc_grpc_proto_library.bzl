"""cc_grpc_proto_library: protoc + grpc_cpp_plugin code generation without @com_google_protobuf.

Bazel's native proto rules need the protobuf source repository, which cannot be fetched offline,
so this macro runs Debian's protoc in a genrule and wraps the generated files in a cc_library.
Generated headers are included as "<package>/<name>.pb.h" (e.g. "proto/ping.pb.h").

    cc_grpc_proto_library(
        name = "ping_cc",
        srcs = ["ping.proto"],
        deps = [":common_cc"],   # other cc_grpc_proto_library targets imported by srcs
        grpc = True,             # also generate service stubs
    )
"""

def cc_grpc_proto_library(name, srcs, deps = [], grpc = True, visibility = None, testonly = False):
    outs = []
    for src in srcs:
        if not src.endswith(".proto"):
            fail("cc_grpc_proto_library: %s is not a .proto file" % src)
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]

    # Carries the .proto files so dependants can import them.
    native.filegroup(
        name = name + "_protos",
        srcs = srcs + [dep + "_protos" for dep in deps],
        visibility = visibility,
        testonly = testonly,
    )

    cmd = "$(location @system//:bin/protoc) -I. -I/usr/include --cpp_out=$(GENDIR)"
    tools = ["@system//:bin/protoc"]
    if grpc:
        cmd += (" --plugin=protoc-gen-grpc=$(location @system//:bin/grpc_cpp_plugin)" +
                " --grpc_out=$(GENDIR)")
        tools.append("@system//:bin/grpc_cpp_plugin")
    cmd += " " + " ".join(["$(location %s)" % src for src in srcs])

    native.genrule(
        name = name + "_gen",
        srcs = srcs + [dep + "_protos" for dep in deps],
        outs = outs,
        cmd = cmd,
        tools = tools,
        testonly = testonly,
    )

    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpcpp"] if grpc else []),
        visibility = visibility,
        testonly = testonly,
    )
