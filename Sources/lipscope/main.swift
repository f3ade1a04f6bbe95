import LipscopeEngine
print("lipscope")
