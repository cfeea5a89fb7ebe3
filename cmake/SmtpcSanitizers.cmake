# SMTPC_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer for everything in the tree, with
# UB reports made fatal so a test cannot pass past one.
if(SMTPC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
